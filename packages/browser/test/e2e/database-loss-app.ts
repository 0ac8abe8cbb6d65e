// The page of database-loss.e2e.test.ts: a Todo app syncing with the edge server, which writes
// down every sync status it emits together with the event ids its IndexedDB held when it did.
// The log lives in the page (not read through page.evaluate later), so no status is missed
// while site data is cleared under the running app, and what each status claimed can be checked
// against what the device held at that time.
import { Todo } from '@strata/example-todo';
import { createStrata } from '../../src/runtime/create-strata.ts';
import { startSync } from '../../src/sync/start-sync.ts';
import type { SyncStatus } from '../../src/sync/sync-status.ts';
import { syncedRows } from '../fixtures/synced-rows.ts';
import { type TodoRow, todoList, todoTables } from '../fixtures/todo-list.ts';
import { type CommandOutcome, commandOutcome, requiredParam, startError } from './page-api.ts';

/** A status as the page saw it, and what its database held right after. */
export interface StatusEntry {
  readonly status: SyncStatus;
  /** Local event ids (sorted), read as the status arrived; undefined if the read failed. */
  readonly eventIds?: readonly string[];
  /** Why the read failed (the database closed under it, e.g. while site data is cleared). */
  readonly readError?: string;
}

/** What `page.evaluate` can call on `window.databaseLoss`. */
export interface DatabaseLossApi {
  readonly clientId: string;
  add(id: string, title: string): Promise<CommandOutcome>;
  /** The `todos` projection table, by id. */
  todos(): Promise<TodoRow[]>;
  /** Local event ids, sorted, and whether any is still pending. */
  events(): Promise<{ readonly ids: string[]; readonly pending: number }>;
  /** Pending commands. */
  pendingCount(): Promise<number>;
  /** The client id stored in the (possibly recreated) database. */
  storedClientId(): Promise<unknown>;
  /** Statuses from index `from` on, with what the database held at each (awaits their reads). */
  statuses(from: number): Promise<StatusEntry[]>;
  /** How many statuses the page has seen so far. */
  statusCount(): number;
}

declare global {
  interface Window {
    databaseLoss?: DatabaseLossApi;
    databaseLossError?: string;
  }
}

async function start(): Promise<DatabaseLossApi> {
  const params = new URLSearchParams(location.search);
  const strata = await createStrata({
    name: requiredParam(params, 'db'),
    tables: todoTables,
    projections: [todoList],
  });
  const sync = startSync(strata, {
    url: requiredParam(params, 'server'),
    aggregates: [Todo],
    backoff: { initialDelayMs: 20, maxDelayMs: 500 },
  });
  const log: Promise<StatusEntry>[] = [];
  sync.status.subscribe((status) => {
    // Read at once, in the order the statuses came: an event the sync writes before it says
    // synced is visible to a read started after.
    log.push(
      strata.db.events.toArray().then(
        (rows) => ({ status, eventIds: rows.map((row) => row.id).sort() }),
        (error: unknown) => ({ status, readError: startError(error) }),
      ),
    );
  });
  return {
    clientId: strata.clientId,
    add: (id, title) =>
      commandOutcome((commandId) =>
        strata.execute(Todo, id, 'add', { title }, { metadata: { commandId } }),
      ),
    todos: () => strata.db.table<TodoRow, string>('todos').orderBy('id').toArray(),
    async events() {
      const rows = await syncedRows(strata.db);
      return {
        ids: rows.map((row) => row.id).sort(),
        pending: rows.filter((row) => row.pending === 1).length,
      };
    },
    pendingCount: () => strata.db.commands.count(),
    storedClientId: async () => (await strata.db.syncState.get('clientId'))?.value,
    statuses: (from) => Promise.all(log.slice(from)),
    statusCount: () => log.length,
  };
}

start().then(
  (api) => {
    window.databaseLoss = api;
  },
  (error: unknown) => {
    window.databaseLossError = startError(error);
  },
);
