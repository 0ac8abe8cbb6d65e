import { Todo, type TodoState } from '@strata/example-todo';
import type { RejectedCommandRow } from '../../src/database/strata-database.ts';
import { createStrata } from '../../src/runtime/create-strata.ts';
import { startSync } from '../../src/sync/start-sync.ts';
import type { SyncStatus } from '../../src/sync/sync-status.ts';
import { syncedRows } from '../fixtures/synced-rows.ts';
import { type TodoRow, todoList, todoTables } from '../fixtures/todo-list.ts';
import { type CommandOutcome, commandOutcome, requiredParam, startError } from './page-api.ts';

export type { TodoRow };

/** The sample domain's commands. */
export type TodoCommandName = 'add' | 'rename' | 'complete' | 'reopen' | 'remove';

/** What became of a command (see `CommandOutcome`). */
export type SyncCommandOutcome = CommandOutcome;

/** A local event as the tests compare it with the server's. */
export interface LocalEventSummary {
  readonly id: string;
  readonly aggregateId: string;
  readonly version: number;
  readonly type: string;
  /** Not yet confirmed by the server. */
  readonly pending: boolean;
}

/** What `page.evaluate` can call on `window.strataSync`. */
export interface StrataSyncApi {
  readonly dbName: string;
  readonly clientId: string;
  execute(
    id: string,
    command: TodoCommandName,
    input: { readonly title?: string },
  ): Promise<SyncCommandOutcome>;
  /** The `todos` projection table, by id. */
  todos(): Promise<TodoRow[]>;
  /** Every todo replayed from the local log (`loadAll`), by id. */
  states(): Promise<Record<string, TodoState>>;
  /** Every event in the local log, in local order. */
  events(): Promise<LocalEventSummary[]>;
  /** The latest sync status, or undefined before the first one. */
  status(): SyncStatus | undefined;
  /** Pending commands (not yet acknowledged by the server). */
  pendingCount(): Promise<number>;
  /** Commands the sync client reported rejected after a conflict (in this page). */
  rejected(): readonly RejectedCommandRow[];
  /** Skips the sync client's current wait. */
  syncNow(): void;
}

declare global {
  interface Window {
    strataSync?: StrataSyncApi;
    strataSyncError?: string;
  }
}

async function start(): Promise<StrataSyncApi> {
  const params = new URLSearchParams(location.search);
  const dbName = requiredParam(params, 'db');
  const server = requiredParam(params, 'server');
  const strata = await createStrata({
    name: dbName,
    tables: todoTables,
    projections: [todoList],
  });
  const rejected: RejectedCommandRow[] = [];
  const retryAfterMs = Number(params.get('retryAfterMs') ?? Number.NaN);
  const sync = startSync(strata, {
    url: server,
    aggregates: [Todo],
    // Short backoff by default: a test waits on retries (e.g. a push that raced another device).
    ...(Number.isFinite(retryAfterMs)
      ? {
          backoff: { initialDelayMs: retryAfterMs, maxDelayMs: retryAfterMs },
          random: () => 0.9999,
        }
      : { backoff: { initialDelayMs: 20, maxDelayMs: 500 } }),
    onRejected: (rows) => rejected.push(...rows),
  });
  let latest: SyncStatus | undefined;
  // Kept for the page's life: the tests read the latest value synchronously.
  sync.status.subscribe((status) => {
    latest = status;
  });

  return {
    dbName,
    clientId: strata.clientId,
    execute: (id, command, input) =>
      commandOutcome((commandId) =>
        strata.execute(Todo, id, command, input as never, { metadata: { commandId } }),
      ),
    todos: () => strata.db.table<TodoRow, string>('todos').orderBy('id').toArray(),
    async states() {
      const loaded = await strata.loadAll(Todo);
      return Object.fromEntries([...loaded].map(([id, { state }]) => [id, state]));
    },
    async events() {
      const rows = await syncedRows(strata.db);
      return rows.map((row) => ({
        id: row.id,
        aggregateId: row.aggregateId,
        version: row.version,
        type: row.type,
        pending: row.pending === 1,
      }));
    },
    status: () => latest,
    pendingCount: () => strata.db.commands.count(),
    rejected: () => [...rejected],
    syncNow: () => sync.syncNow(),
  };
}

start().then(
  (api) => {
    window.strataSync = api;
  },
  (error: unknown) => {
    window.strataSyncError = startError(error);
  },
);
