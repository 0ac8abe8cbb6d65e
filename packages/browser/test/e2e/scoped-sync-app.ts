/**
 * The page that `scoped-sync.e2e.test.ts` drives in real Chromium: one user's device, a strata
 * runtime on the sample Task aggregate (with the `tasks` projection table) that syncs a set of
 * scopes with an edge server through `startSync(strata, { scopes })`, exposed on
 * `window.strataScoped`. Bundled by `serve-test-app.ts`; runs in the browser only.
 *
 * Query string: `db` (the IndexedDB name), `server` (the sync API's base URL), `user` and
 * `token` (the signed-in user and their bearer token, signed by the test), `scopes` (JSON:
 * `[{ name: 'project' | 'assignedTo', params }]`), all required.
 *
 * `readStore` reads IndexedDB with the raw IndexedDB API, not through strata or Dexie: the
 * tests assert what the device really keeps.
 */
import type { ScopeRef } from '@strata/core';
import { assignedTo, project, Task } from '@strata/example-todo';
import type { RejectedCommandRow } from '../../src/database/strata-database.ts';
import { createStrata } from '../../src/runtime/create-strata.ts';
import { startSync } from '../../src/sync/start-sync.ts';
import type { SyncStatus } from '../../src/sync/sync-status.ts';
import { taskList, taskTables } from '../fixtures/task-list.ts';
import { type CommandOutcome, commandOutcome, requiredParam, startError } from './page-api.ts';

/** The tenant the test signs its tokens for. */
const TENANT = 'test-tenant';

/** A scope as it crosses `page.evaluate` and the query string. */
export type ScopeSpec =
  | { readonly name: 'project'; readonly params: { readonly projectId: string } }
  | { readonly name: 'assignedTo'; readonly params: { readonly userId: string } };

/** The sample domain's commands. */
export type TaskCommandName = 'create' | 'rename' | 'reassign' | 'move';

/** What became of a command (see `CommandOutcome`). */
export type TaskCommandOutcome = CommandOutcome;

/** What `page.evaluate` can call on `window.strataScoped`. */
export interface StrataScopedApi {
  readonly dbName: string;
  readonly clientId: string;
  execute(id: string, command: TaskCommandName, input: object): Promise<TaskCommandOutcome>;
  /** Every row of an object store, read with the raw IndexedDB API (a new connection). */
  readStore(store: string): Promise<unknown[]>;
  /** The object store names of the database, read with the raw IndexedDB API. */
  storeNames(): Promise<string[]>;
  /** The latest sync status, or undefined before the first one. */
  status(): SyncStatus | undefined;
  /** The latest value of `sync.rejected` (what the app would show). */
  rejected(): readonly RejectedCommandRow[];
  setScopes(scopes: readonly ScopeSpec[]): Promise<void>;
  syncNow(): void;
}

declare global {
  interface Window {
    strataScoped?: StrataScopedApi;
    strataScopedError?: string;
  }
}

function toRef(spec: ScopeSpec): ScopeRef {
  switch (spec.name) {
    case 'project':
      return project(spec.params);
    case 'assignedTo':
      return assignedTo(spec.params);
  }
}

/** Opens `name` without a version (its current one), so Dexie's open connection is not upset. */
function withRawDatabase<T>(name: string, use: (db: IDBDatabase) => Promise<T>): Promise<T> {
  return new Promise<IDBDatabase>((resolve, reject) => {
    const open = indexedDB.open(name);
    open.onerror = () => reject(open.error);
    open.onblocked = () => reject(new Error(`opening ${name} was blocked`));
    open.onsuccess = () => resolve(open.result);
  }).then(async (db) => {
    try {
      return await use(db);
    } finally {
      db.close();
    }
  });
}

function getAll(db: IDBDatabase, store: string): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const request = db.transaction(store, 'readonly').objectStore(store).getAll();
    request.onerror = () => reject(request.error);
    request.onsuccess = () => resolve(request.result as unknown[]);
  });
}

async function start(): Promise<StrataScopedApi> {
  const params = new URLSearchParams(location.search);
  const dbName = requiredParam(params, 'db');
  const server = requiredParam(params, 'server');
  const user = requiredParam(params, 'user');
  const token = requiredParam(params, 'token');
  const scopes = (JSON.parse(requiredParam(params, 'scopes')) as ScopeSpec[]).map(toRef);
  const strata = await createStrata({
    name: dbName,
    tables: taskTables,
    projections: [taskList],
    principal: { userId: user, tenant: TENANT, claims: {} },
  });
  const sync = startSync(strata, {
    url: server,
    aggregates: [Task],
    token: () => token,
    scopes,
    // A refused scope is asked for again soon, so a test sees a grant back-fill without waiting.
    refusedScopeRetryMs: 200,
    backoff: { initialDelayMs: 20, maxDelayMs: 500 },
  });
  let latest: SyncStatus | undefined;
  let rejected: readonly RejectedCommandRow[] = [];
  // Kept for the page's life: the tests read the latest values synchronously.
  sync.status.subscribe((status) => {
    latest = status;
  });
  sync.rejected.subscribe((rows) => {
    rejected = rows;
  });

  return {
    dbName,
    clientId: strata.clientId,
    execute: (id, command, input) =>
      commandOutcome((commandId) =>
        strata.execute(Task, id, command, input as never, { metadata: { commandId } }),
      ),
    readStore: (store) => withRawDatabase(dbName, (db) => getAll(db, store)),
    storeNames: () => withRawDatabase(dbName, async (db) => [...db.objectStoreNames].sort()),
    status: () => latest,
    rejected: () => rejected,
    setScopes: (specs) => sync.setScopes(specs.map(toRef)),
    syncNow: () => sync.syncNow(),
  };
}

start().then(
  (api) => {
    window.strataScoped = api;
  },
  (error: unknown) => {
    window.strataScopedError = startError(error);
  },
);
