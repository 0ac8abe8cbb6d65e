import 'todomvc-app-css/index.css';
import { createStrata, startSync } from '@strata/browser';
import { createStrataPlugin } from '@strata/browser/vue';
import { Todo } from '@strata/example-todo';
import { createApp } from 'vue';
import App from './App.vue';
import { todoList, todoTables } from './todo-list.ts';

async function start() {
  // Everything the app shows comes from IndexedDB: it works before, and without, the server.
  const strata = await createStrata({
    name: 'strata-todo-vue',
    tables: todoTables,
    projections: [todoList],
    principal: { userId: 'anonymous', tenant: 'default', claims: {} },
  });
  // The sync API on the app's origin (see vite.config.ts); unreachable, it retries in the
  // background and the status line says so.
  const sync = startSync(strata, { url: location.origin, aggregates: [Todo] });
  createApp(App).use(createStrataPlugin({ strata, sync })).mount('#app');
}

start().catch((error: unknown) => {
  console.error(error);
  document.body.textContent = `strata could not open its local database: ${String(error)}`;
});
