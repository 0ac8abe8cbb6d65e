import 'todomvc-app-css/index.css';
import './app.css';
import { createStrata, startSync } from '@strata/browser';
import { StrataProvider } from '@strata/browser/react';
import { Todo, todosOf } from '@strata/example-todo';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.tsx';
import { TODO_TABLES_VERSION, todoList, todoTables } from './todo-list.ts';

async function start(root: HTMLElement) {
  // Everything the app shows comes from IndexedDB: it works before, and without, the server.
  const strata = await createStrata({
    name: 'strata-demo',
    tables: todoTables,
    tablesVersion: TODO_TABLES_VERSION,
    projections: [todoList],
    // Who runs commands here, as the server sees them: the demo server has no sign-in, so every
    // device is its one tenant's anonymous user (an app with JWTs names the signed-in user).
    principal: { userId: 'anonymous', tenant: 'default', claims: {} },
  });
  // The sync API is served from the app's own origin. An unreachable server is retried in the
  // background (with backoff) and shows in the sync indicator; commands keep working locally.
  const sync = startSync(strata, {
    url: location.origin,
    aggregates: [Todo],
    // Scoped sync: this device holds its user's todos (the server's rule: only that user).
    scopes: [todosOf({ userId: strata.principal?.userId ?? 'anonymous' })],
  });
  createRoot(root).render(
    <StrictMode>
      <StrataProvider strata={strata} sync={sync}>
        <App />
      </StrataProvider>
    </StrictMode>,
  );
}

const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root element');
// Without IndexedDB (some private modes) or with another tab holding an old database version
// open, there is nothing to run on: say so instead of showing an empty app.
start(root).catch((error: unknown) => {
  console.error(error);
  root.textContent = `strata could not open its local database: ${
    error instanceof Error ? error.message : String(error)
  }`;
});
