import 'todomvc-app-css/index.css';
import { createStrata, startSync } from '@strata/browser';
import { Todo } from '@strata/example-todo';
import { mount } from 'svelte';
import App from './App.svelte';
import { todoList, todoTables } from './todo-list.ts';

async function start(target: HTMLElement) {
  // Everything the app shows comes from IndexedDB: it works before, and without, the server.
  const strata = await createStrata({
    name: 'strata-todo-svelte',
    tables: todoTables,
    projections: [todoList],
    principal: { userId: 'anonymous', tenant: 'default', claims: {} },
  });
  // The sync API on the app's origin (see vite.config.ts); unreachable, it retries in the
  // background and the status line says so.
  const sync = startSync(strata, { url: location.origin, aggregates: [Todo] });
  mount(App, { target, props: { strata, sync } });
}

const target = document.getElementById('app');
if (target === null) throw new Error('index.html has no #app element');
start(target).catch((error: unknown) => {
  console.error(error);
  target.textContent = `strata could not open its local database: ${String(error)}`;
});
