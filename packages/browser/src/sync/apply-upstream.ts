import { applyInlineProjections, type StreamRef, streamKey } from '@strata/core';
import { basesOf, coveredByBase } from '../bases/server-bases.ts';
import { assertDatabaseKept } from '../database/database-kept.ts';
import { withStorageErrors } from '../database/storage-errors.ts';
import type {
  EventRow,
  PendingCommandRow,
  RejectedCommandRow,
  StrataDatabase,
} from '../database/strata-database.ts';
import type { StrataTransaction } from '../event-store/strata-transaction.ts';
import { beforeHold, holdsOf } from '../unreadable/held-aggregates.ts';
import { rowsWhere } from './keyed-rows.ts';
import { confirmServerCopies, eventsById, type ServerCopy } from './pending-commands.ts';
import { rebaseAggregate, toConfirmedRow } from './rebase.ts';
import { reproject } from './reproject.ts';
import type { SyncContext, UpstreamEvent } from './sync-context.ts';
import { keepUnreadable } from './unreadable-events.ts';

/** The sync state key of the upstream cursor. */
export const CURSOR_KEY = 'cursor';
/** The sync state key of the last event received upstream, checked by the next catch-up. */
export const ANCHOR_KEY = 'anchor';
/** The sync state key of the time of the last successful exchange with the server. */
export const LAST_SYNCED_AT_KEY = 'lastSyncedAt';

/** The cursor the last applied batch stored; undefined before the first. */
export async function readCursor(db: StrataDatabase): Promise<string | undefined> {
  const row = await withStorageErrors(() => db.syncState.get(CURSOR_KEY));
  return row?.value as string | undefined;
}

/** What applying a batch of upstream events did. */
export interface UpstreamResult {
  /** Events stored for the first time. */
  readonly imported: number;
  /** Local pending events the server now has. */
  readonly confirmed: number;
  /** Aggregates whose pending commands were re-run on top of foreign events. */
  readonly rebased: readonly StreamRef[];
  readonly rejected: readonly RejectedCommandRow[];
}

/**
 * Applies a batch of the server's events and advances the cursor, all in ONE transaction: a
 * crash leaves either the old cursor and none of the batch, or both. Each event is one of:
 * already stored (skipped: deliveries repeat); one of our pending events (confirmed:
 * `confirmServerCopies`); or new. New events of an aggregate with pending events mean someone else
 * wrote first, or the server decided one of our commands (its `metadata.commandId`): that
 * command stops pending and the aggregate is rebased. Others are stored and projected.
 */
export async function applyUpstream(
  context: SyncContext,
  events: readonly UpstreamEvent[],
  cursor: string,
): Promise<UpstreamResult> {
  const { db } = context.strata;
  return withStorageErrors(() =>
    db.transaction('rw', db.tables, async (dexie) => {
      const transaction: StrataTransaction = { dexie, table: (name) => db.table(name) };
      // Not into a database recreated under the app: the cursor is the deleted one's.
      await assertDatabaseKept(db);
      const result = await storeUpstreamEvents(context, events, transaction);
      const last = events.at(-1);
      await db.syncState.bulkPut([
        { key: CURSOR_KEY, value: cursor },
        { key: LAST_SYNCED_AT_KEY, value: context.clock().toISOString() },
        // The next catch-up asks the server whether its log still holds this event (issue 17).
        ...(last === undefined
          ? []
          : [{ key: ANCHOR_KEY, value: { position: last.position, eventId: last.id } }]),
      ]);
      return result;
    }),
  );
}

/**
 * Stores a batch of the server's events as `applyUpstream` describes, inside the caller's
 * read-write transaction over all tables; the caller records how far it read.
 */
export async function storeUpstreamEvents(
  context: SyncContext,
  events: readonly UpstreamEvent[],
  transaction: StrataTransaction,
): Promise<UpstreamResult> {
  const { db } = context.strata;
  const known = await eventsById(
    db,
    events.map((event) => event.id),
  );
  const copies: ServerCopy[] = [];
  const fresh = new Map<string, UpstreamEvent[]>();
  for (const event of events) {
    const local = known.get(event.id);
    if (local === undefined) {
      const key = streamKey(event);
      const list = fresh.get(key);
      if (list === undefined) fresh.set(key, [event]);
      else list.push(event);
    } else {
      copies.push({ row: local, position: event.position });
    }
  }
  const confirmed = await confirmServerCopies(db, copies);

  // Every pending event belongs to a pending command, so those tell which aggregates
  // have pending events without scanning the log.
  const streams = [...fresh.values()].map(([first]) => first as UpstreamEvent);
  const pendingThere = await rowsWhere(
    db.commands,
    '[aggregateType+aggregateId]',
    streams.map((s) => [s.aggregateType, s.aggregateId]),
  );
  const withPending = new Set(pendingThere.map(streamKey));
  // The server decided one of our commands (its own events, under `decide`): it stopped
  // pending, and the rebase below puts the server's events in place of the prediction
  // instead of running the command again on top of its own result.
  const stored = storedCommands(fresh.values(), pendingThere);
  await db.commands.bulkDelete(stored.map((command) => command.seq as number));
  // Their predictions are no command's any more, yet not what the server stored: the rebase
  // drops them.
  const superseded = new Set(stored.flatMap((command) => command.eventIds));

  // In batch order, for the projections; events already stored are not new, even when
  // their aggregate has new ones in the same batch.
  const plainIds = new Set(
    [...fresh]
      .filter(([key]) => !withPending.has(key))
      .flatMap(([, list]) => list.map((event) => event.id)),
  );
  const plain = events.filter((event) => plainIds.has(event.id));
  await db.events.bulkAdd(plain.map(toConfirmedRow) as EventRow[]);
  // Events this app version cannot read are kept, and hold their aggregate there: neither
  // they nor its later events are projected (held-aggregates.ts). The rebase below keeps its own.
  await keepUnreadable(context, plain);
  const holds = await holdsOf(db, streams);
  // Events a base stands for (snapshot bootstrap) are history here: their effect is in it.
  const bases = await basesOf(db, startsFromBases(context) ? streams : []);
  const projected = plain.filter(
    (event) => !coveredByBase(bases, event) && beforeHold(holds, event),
  );
  await applyInlineProjections(context.strata.projections, projected, transaction);

  const rebased: StreamRef[] = [];
  const rejected: RejectedCommandRow[] = [];
  for (const [key, list] of fresh) {
    if (!withPending.has(key)) continue;
    const first = list[0] as UpstreamEvent;
    const stream = { aggregateType: first.aggregateType, aggregateId: first.aggregateId };
    const outcome = await rebaseAggregate(context, stream, list, { superseded });
    rebased.push(stream);
    rejected.push(...outcome.rejected);
  }
  await reproject(context, rebased, transaction);
  const imported = [...fresh.values()].reduce((sum, list) => sum + list.length, 0);
  return { imported, confirmed, rebased, rejected };
}

/**
 * The pending commands (of `pending`) that these new events say the server stored: an event's
 * `metadata.commandId` is the command's id, on the command's own aggregate.
 */
function storedCommands(
  fresh: Iterable<readonly UpstreamEvent[]>,
  pending: readonly PendingCommandRow[],
): PendingCommandRow[] {
  const byId = new Map(pending.map((command) => [command.commandId, command]));
  const stored = new Set<PendingCommandRow>();
  for (const list of fresh) {
    for (const event of list) {
      const command = byId.get(event.metadata.commandId as string);
      if (command !== undefined && streamKey(command) === streamKey(event)) stored.add(command);
    }
  }
  return [...stored];
}

/** Whether any aggregate of this sync may start from a server snapshot (a base). */
function startsFromBases(context: SyncContext): boolean {
  for (const aggregate of context.aggregates.values()) {
    if (aggregate.snapshots?.bootstrap === true) return true;
  }
  return false;
}
