/**
 * The version-skew e2e page (issue 17), shared by its two builds: `version-skew-old-app.ts`
 * (Todo as @strata/example-todo defines it) and `version-skew-new-app.ts` (TodoNext: a new
 * event type and a new schema version). Each bundle holds only its own definitions, as two
 * deployments of one app would. Browser only.
 */
import type { AnyAggregateDefinition, InlineProjection } from '@strata/core';
import type { UnreadableEventRow } from '../../src/database/strata-database.ts';
import type { StrataTransaction } from '../../src/event-store/strata-transaction.ts';
import { createStrata } from '../../src/runtime/create-strata.ts';
import { startSync } from '../../src/sync/start-sync.ts';
import type { SyncStatus } from '../../src/sync/sync-status.ts';
import { liveUnreadableEvents } from '../../src/sync/unreadable-events.ts';
import { syncedRows } from '../fixtures/synced-rows.ts';
import { todoTables } from '../fixtures/todo-list.ts';
import type { TodoNextRow } from '../fixtures/todo-next.ts';
import { type CommandOutcome, commandOutcome, requiredParam, startError } from './page-api.ts';

/** What `page.evaluate` can call on `window.strataSkew`. */
export interface VersionSkewApi {
  /** Which build this page runs. */
  readonly build: 'old' | 'new';
  execute(id: string, command: string, input: object): Promise<CommandOutcome>;
  /** The `todos` projection table, by id. */
  todos(): Promise<TodoNextRow[]>;
  /** Every todo replayed from the local log (`loadAll`): state and version, by id. */
  states(): Promise<Record<string, { state: unknown; version: number }>>;
  /** Every event in the local log, as `id@aggregateId/version`, pending ones marked. */
  events(): Promise<{ key: string; pending: boolean }[]>;
  /** The latest sync status, or undefined before the first one. */
  status(): SyncStatus | undefined;
  /** The latest kept-unreadable events (`liveUnreadableEvents`). */
  unreadable(): readonly UnreadableEventRow[];
  pendingCount(): Promise<number>;
  rejectedCount(): Promise<number>;
}

declare global {
  interface Window {
    strataSkew?: VersionSkewApi;
    strataSkewError?: string;
  }
}

/** Starts the page with one build's aggregate and projection. */
export function startVersionSkewApp(
  build: 'old' | 'new',
  aggregate: AnyAggregateDefinition,
  projection: InlineProjection<StrataTransaction>,
): void {
  start(build, aggregate, projection).then(
    (api) => {
      window.strataSkew = api;
    },
    (error: unknown) => {
      window.strataSkewError = startError(error);
    },
  );
}

async function start(
  build: 'old' | 'new',
  aggregate: AnyAggregateDefinition,
  projection: InlineProjection<StrataTransaction>,
): Promise<VersionSkewApi> {
  const params = new URLSearchParams(location.search);
  const strata = await createStrata({
    name: requiredParam(params, 'db'),
    tables: todoTables,
    projections: [projection],
  });
  const sync = startSync(strata, {
    url: requiredParam(params, 'server'),
    aggregates: [aggregate],
    backoff: { initialDelayMs: 20, maxDelayMs: 500 },
  });
  let latest: SyncStatus | undefined;
  sync.status.subscribe((status) => {
    latest = status;
  });
  let unreadable: readonly UnreadableEventRow[] = [];
  liveUnreadableEvents(strata.db).subscribe((rows) => {
    unreadable = rows;
  });
  return {
    build,
    execute: (id, command, input) =>
      commandOutcome((commandId) =>
        strata.execute(aggregate, id, command as never, input as never, {
          metadata: { commandId },
        }),
      ),
    todos: () => strata.db.table<TodoNextRow, string>('todos').orderBy('id').toArray(),
    async states() {
      const loaded = await strata.loadAll(aggregate);
      return Object.fromEntries(
        [...loaded].map(([id, { state, version }]) => [id, { state, version }]),
      );
    },
    async events() {
      return (await syncedRows(strata.db)).map((row) => ({
        key: `${row.id}@${row.aggregateId}/${row.version}`,
        pending: row.pending === 1,
      }));
    },
    status: () => latest,
    unreadable: () => unreadable,
    pendingCount: () => strata.db.commands.count(),
    rejectedCount: () => strata.db.rejected.count(),
  };
}
