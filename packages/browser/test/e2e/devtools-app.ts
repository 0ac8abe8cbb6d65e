/**
 * The devtools e2e page: a todo runtime syncing with the server given in `?server=`, with the
 * devtools panel open over it (`?tab=` picks the first tab). `window.devtoolsApp` runs commands
 * as the app would. Bundled for the browser by `serve-test-app.ts`.
 */
import { Todo } from '@strata/example-todo';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { type DevtoolsTab, StrataDevtools } from '../../src/devtools/index.ts';
import { createStrata } from '../../src/runtime/create-strata.ts';
import { startSync } from '../../src/sync/start-sync.ts';
import { todoList, todoTables } from '../fixtures/todo-list.ts';
import { type CommandOutcome, commandOutcome, requiredParam, startError } from './page-api.ts';

/** What `page.evaluate` can call on `window.devtoolsApp`. */
export interface DevtoolsAppApi {
  readonly clientId: string;
  execute(
    id: string,
    command: 'add' | 'rename' | 'complete' | 'reopen' | 'remove',
    input: { readonly title?: string },
  ): Promise<CommandOutcome>;
  syncNow(): void;
}

declare global {
  interface Window {
    devtoolsApp?: DevtoolsAppApi;
    devtoolsAppError?: string;
  }
}

const AGGREGATES = [Todo];

async function start(): Promise<DevtoolsAppApi> {
  const params = new URLSearchParams(location.search);
  const strata = await createStrata({
    name: requiredParam(params, 'db'),
    tables: todoTables,
    projections: [todoList],
  });
  const sync = startSync(strata, {
    url: requiredParam(params, 'server'),
    aggregates: AGGREGATES,
    backoff: { initialDelayMs: 20, maxDelayMs: 500 },
  });
  const root = document.createElement('div');
  document.body.append(root);
  createRoot(root).render(
    createElement(StrataDevtools, {
      strata,
      sync,
      aggregates: AGGREGATES,
      defaultOpen: true,
      defaultTab: (params.get('tab') ?? 'log') as DevtoolsTab,
    }),
  );
  return {
    clientId: strata.clientId,
    execute: (id, command, input) =>
      commandOutcome((commandId) =>
        strata.execute(Todo, id, command, input as never, { metadata: { commandId } }),
      ),
    syncNow: () => sync.syncNow(),
  };
}

start().then(
  (api) => {
    window.devtoolsApp = api;
  },
  (error: unknown) => {
    window.devtoolsAppError = startError(error);
  },
);
