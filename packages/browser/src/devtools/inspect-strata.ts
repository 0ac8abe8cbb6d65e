import type { AnyAggregateDefinition } from '@strata/core';
import type { PendingCommandRow, RejectedCommandRow } from '../database/strata-database.ts';
import type { Strata } from '../runtime/create-strata.ts';
import type { LiveSubscribable } from '../runtime/live-state.ts';
import type { SyncClient } from '../sync/start-sync.ts';
import type { SyncActivityEntry } from '../sync/sync-activity.ts';
import type { SyncStatus } from '../sync/sync-status.ts';
import { type HistoryPage, type HistoryQuery, readHistoryPage } from './aggregate-history.ts';
import { type CommandPage, type CommandQuery, readCommandPage } from './command-pages.ts';
import { type LogPage, type LogQuery, readAggregateTypes, readLogPage } from './event-log.ts';
import {
  readUnreadablePage,
  type UnreadablePage,
  type UnreadableQuery,
} from './kept-unreadable.ts';

/** Options of `inspectStrata`. */
export interface InspectOptions {
  /** The sync client (`startSync`), for its status and timeline. Undefined: a local-only app. */
  readonly sync?: SyncClient | undefined;
  /**
   * The app's aggregate definitions: with them an aggregate's state is loaded and its events
   * decoded (as the app would). Without, its history is shown as stored.
   */
  readonly aggregates?: readonly AnyAggregateDefinition[] | undefined;
}

/** An aggregate's history page and, with its definition, its current state. */
export interface AggregateInspection extends HistoryPage {
  /** Its definition was given (`InspectOptions.aggregates`). */
  readonly known: boolean;
  /** The current state (snapshot + events, as the app loads it), when known and loaded. */
  readonly state?: unknown;
  /** Why the state could not be loaded (e.g. an event this app version cannot decode). */
  readonly stateError?: string;
}

/** What the devtools show, as live values: each re-reads when what it read changes. */
export interface StrataInspector {
  /** A page of the local event log, optionally of one aggregate type (and id prefix). */
  log(query?: LogQuery): LiveSubscribable<LogPage>;
  /** The aggregate types the local log holds (one index read per type). */
  aggregateTypes(): LiveSubscribable<string[]>;
  /** One aggregate: a page of its history (newest first) and its current state. */
  aggregate(
    aggregateType: string,
    aggregateId: string,
    query?: HistoryQuery,
  ): LiveSubscribable<AggregateInspection>;
  /** The outbox: commands executed here and not yet acknowledged, in push order. */
  outbox(query?: CommandQuery): LiveSubscribable<CommandPage<PendingCommandRow>>;
  /** Commands the server or a rebase rejected, kept for the app to show. */
  rejected(query?: CommandQuery): LiveSubscribable<CommandPage<RejectedCommandRow>>;
  /** Events this app version could not read, kept unapplied (see `readUnreadablePage`). */
  unreadable(query?: UnreadableQuery): LiveSubscribable<UnreadablePage>;
  /** The sync status (`sync.status`); undefined without a sync client. */
  readonly status: LiveSubscribable<SyncStatus> | undefined;
  /** This tab's sync activity (`sync.activity`); undefined without a sync client. */
  readonly timeline: LiveSubscribable<readonly SyncActivityEntry[]> | undefined;
}

/**
 * The devtools' data without the panel: the local log, aggregates, outbox, rejected and
 * unreadable events, sync status and timeline, each a live value to subscribe to from any
 * framework (or a console). Every list is paged: nothing here reads a whole table.
 *
 * @example
 * const inspect = inspectStrata(strata, { sync, aggregates: [Todo] });
 * inspect.log({ aggregateType: 'Todo', limit: 20 }).subscribe((page) => console.table(page.entries));
 * inspect.outbox().subscribe(({ total }) => console.log(`${total} pending`));
 */
export function inspectStrata(strata: Strata, options: InspectOptions = {}): StrataInspector {
  const { db } = strata;
  const definitions = new Map(options.aggregates?.map((aggregate) => [aggregate.type, aggregate]));
  return {
    log: (query = {}) => strata.live(() => readLogPage(db, query)),
    aggregateTypes: () => strata.live(() => readAggregateTypes(db)),
    aggregate(aggregateType, aggregateId, query = {}) {
      const definition = definitions.get(aggregateType);
      const stream = { aggregateType, aggregateId };
      const history = strata.live(() => readHistoryPage(db, stream, definition, query));
      const state =
        definition === undefined ? undefined : strata.liveState(definition, aggregateId);
      return combined(history, state, definition !== undefined);
    },
    outbox: (query = {}) => strata.live(() => readCommandPage(db.commands, query)),
    rejected: (query = {}) => strata.live(() => readCommandPage(db.rejected, query)),
    unreadable: (query = {}) => strata.live(() => readUnreadablePage(db, query)),
    status: options.sync?.status,
    timeline: options.sync?.activity,
  };
}

/** The history page with the latest state; delivered once both have come (or the state failed). */
function combined(
  history: LiveSubscribable<HistoryPage>,
  state: LiveSubscribable<{ readonly state: unknown }> | undefined,
  known: boolean,
): LiveSubscribable<AggregateInspection> {
  return {
    subscribe(observer) {
      const { next, error } =
        typeof observer === 'function' ? { next: observer, error: undefined } : observer;
      let page: HistoryPage | undefined;
      let current: { state: unknown } | { stateError: string } | undefined;
      const emit = () => {
        if (page === undefined || (state !== undefined && current === undefined)) return;
        next?.({ ...page, known, ...current });
      };
      const historySubscription = history.subscribe({
        next: (value) => {
          page = value;
          emit();
        },
        error: (cause) => error?.(cause),
      });
      const stateSubscription = state?.subscribe({
        next: (value) => {
          current = { state: value.state };
          emit();
        },
        // A state that cannot load is shown as such; the history still says why.
        error: (cause) => {
          current = { stateError: cause instanceof Error ? cause.message : String(cause) };
          emit();
        },
      });
      return {
        unsubscribe() {
          historySubscription.unsubscribe();
          stateSubscription?.unsubscribe();
        },
      };
    },
  };
}
