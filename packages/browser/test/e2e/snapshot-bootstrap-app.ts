/**
 * The page that `snapshot-bootstrap.e2e.test.ts` drives in real Chromium: one user's device, a
 * strata runtime on the sample Note aggregate (with the `notes` projection table) that syncs
 * `folder` scopes with an edge server through `startSync(strata, { scopes })`, exposed on
 * `window.strataSnapshot`. Bundled by `serve-test-app.ts`; runs in the browser only.
 *
 * Query string: `db` (the IndexedDB name), `server` (the sync API's base URL), `user` and
 * `token` (the signed-in user and their bearer token, signed by the test), `folders` (JSON: the
 * folder ids the device holds), all required; `bootstrap=false` runs an app whose Note does not
 * opt in to snapshot bootstrap (`defineNote({ bootstrap: false })`), so it reads full history.
 *
 * `readStore` reads IndexedDB with the raw IndexedDB API, not through strata or Dexie: the
 * tests assert what the device really keeps.
 */
import { defineNote, folder, Note, type NoteState } from '@strata/example-todo';
import { createStrata } from '../../src/runtime/create-strata.ts';
import { startSync } from '../../src/sync/start-sync.ts';
import type { SyncStatus } from '../../src/sync/sync-status.ts';
import { noteList, noteTables } from '../fixtures/note-list.ts';
import { type CommandOutcome, commandOutcome, requiredParam, startError } from './page-api.ts';

/** The tenant the test signs its tokens for. */
const TENANT = 'test-tenant';

/** The sample Note's commands. */
export type NoteCommandName = 'create' | 'edit';

/** A note as `strata.load` answers it (state folded from its base, or from version 1). */
export interface LoadedNote {
  readonly state: NoteState;
  readonly version: number;
}

/** What `page.evaluate` can call on `window.strataSnapshot`. */
export interface StrataSnapshotApi {
  readonly dbName: string;
  readonly clientId: string;
  /** Whether this app's Note opts in to snapshot bootstrap. */
  readonly bootstrap: boolean;
  execute(id: string, command: NoteCommandName, input: object): Promise<CommandOutcome>;
  /** Resolves once nothing is pending and every scope is caught up (`sync.whenSynced`). */
  whenSynced(): Promise<void>;
  /** `sync.loadHistory(Note, id)`: how many older events it stored. */
  loadHistory(id: string): Promise<number>;
  /** `strata.load(Note, id)`. */
  load(id: string): Promise<LoadedNote>;
  /** Every row of an object store, read with the raw IndexedDB API (a new connection). */
  readStore(store: string): Promise<unknown[]>;
  /** The latest sync status, or undefined before the first one. */
  status(): SyncStatus | undefined;
}

declare global {
  interface Window {
    strataSnapshot?: StrataSnapshotApi;
    strataSnapshotError?: string;
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

async function start(): Promise<StrataSnapshotApi> {
  const params = new URLSearchParams(location.search);
  const dbName = requiredParam(params, 'db');
  const server = requiredParam(params, 'server');
  const user = requiredParam(params, 'user');
  const token = requiredParam(params, 'token');
  const folders = JSON.parse(requiredParam(params, 'folders')) as string[];
  const bootstrap = params.get('bootstrap') !== 'false';
  // The same type name either way: only the opt-in differs, as between two builds of an app.
  const note = bootstrap ? Note : defineNote({ bootstrap: false });
  const strata = await createStrata({
    name: dbName,
    tables: noteTables,
    projections: [noteList],
    principal: { userId: user, tenant: TENANT, claims: {} },
  });
  const sync = startSync(strata, {
    url: server,
    aggregates: [note],
    token: () => token,
    scopes: folders.map((folderId) => folder({ folderId })),
    backoff: { initialDelayMs: 20, maxDelayMs: 500 },
  });
  let latest: SyncStatus | undefined;
  // Kept for the page's life: the tests read the latest value synchronously.
  sync.status.subscribe((status) => {
    latest = status;
  });

  return {
    dbName,
    clientId: strata.clientId,
    bootstrap,
    execute: (id, command, input) =>
      commandOutcome((commandId) =>
        strata.execute(note, id, command, input as never, { metadata: { commandId } }),
      ),
    whenSynced: () => sync.whenSynced(),
    loadHistory: (id) => sync.loadHistory(note, id),
    async load(id) {
      const { state, version } = await strata.load(note, id);
      return { state, version };
    },
    readStore: (store) => withRawDatabase(dbName, (db) => getAll(db, store)),
    status: () => latest,
  };
}

start().then(
  (api) => {
    window.strataSnapshot = api;
  },
  (error: unknown) => {
    window.strataSnapshotError = startError(error);
  },
);
