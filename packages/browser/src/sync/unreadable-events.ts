// Version skew, old client side (issue 17): the server's events this app version cannot read are
// kept, unapplied and in order, instead of failing the batch they came in (which stopped the
// cursor there for good). The rules of what is then applied are in
// ../unreadable/held-aggregates.ts; an app version that reads them applies them on start
// (../unreadable/release-readable.ts).
import { streamKey } from '@strata/core';
import { liveQuery } from 'dexie';
import type { StrataDatabase, UnreadableEventRow } from '../database/strata-database.ts';
import type { LiveSubscribable } from '../runtime/live-state.ts';
import {
  readingDefinitions,
  unreadableReason,
  unreadableRow,
} from '../unreadable/reading-definitions.ts';
import { type ReleaseResult, releaseReadable } from '../unreadable/release-readable.ts';
import { noteUndefinedTypes } from '../unreadable/undefined-types.ts';
import type { SyncContext, UpstreamEvent } from './sync-context.ts';

/** One event type and schema version among the kept-unreadable events. */
export interface UnreadableType {
  readonly type: string;
  readonly schemaVersion: number;
  /** Why they could not be read (`UnreadableEventRow.code`). */
  readonly code: string;
  readonly count: number;
}

/**
 * What `sync.status.unreadable` reports: the device holds events a newer app version wrote
 * (or data that does not match this version's schemas), kept unapplied until an app version
 * that reads them starts. Absent while there are none.
 */
export interface UnreadableStatus {
  /** Events kept unapplied. */
  readonly count: number;
  /** Aggregates held at their last readable event: their commands are refused. */
  readonly heldAggregates: number;
  /** By event type, schema version and reason, in the order the first of each was received. */
  readonly types: readonly UnreadableType[];
}

/**
 * Keeps the events of `events` this app version cannot read: one `unreadable` row each, written
 * inside the caller's read-write transaction (their rows in `events` are the caller's). Answers
 * how many. An event of an aggregate type the app has no definition for is not decoded by
 * anything here (only projections without an aggregate see it, as it is), so it is not kept;
 * its type is noted for a later version that defines it (undefined-types.ts).
 */
export async function keepUnreadable(
  context: SyncContext,
  events: readonly UpstreamEvent[],
): Promise<number> {
  if (events.length === 0) return 0;
  const definitions = readingDefinitions(context.aggregates.values(), context.strata.projections);
  const keptAt = context.clock().toISOString();
  const rows: UnreadableEventRow[] = [];
  const undefinedTypes = new Set<string>();
  for (const event of events) {
    const readers = definitions.get(event.aggregateType);
    if (readers === undefined) {
      undefinedTypes.add(event.aggregateType);
      continue;
    }
    const unreadable = unreadableReason(readers, event);
    if (unreadable !== undefined)
      rows.push(unreadableRow(event, event.position, unreadable, keptAt));
  }
  await context.strata.db.unreadable.bulkPut(rows);
  await noteUndefinedTypes(context.strata.db, undefinedTypes);
  return rows.length;
}

/** The kept-unreadable events, in the order the server stored them. */
export async function readUnreadableEvents(db: StrataDatabase): Promise<UnreadableEventRow[]> {
  const rows = await db.unreadable.toArray();
  return rows.sort(
    (a, b) =>
      (a.serverPosition ?? Number.MAX_SAFE_INTEGER) -
        (b.serverPosition ?? Number.MAX_SAFE_INTEGER) ||
      a.aggregateType.localeCompare(b.aggregateType) ||
      a.aggregateId.localeCompare(b.aggregateId) ||
      a.version - b.version,
  );
}

/**
 * The kept-unreadable events as a live value, in the order the server stored them (in every
 * tab): what a devtools panel or an "update the app" notice shows.
 *
 * @example
 * liveUnreadableEvents(strata.db).subscribe((events) => {
 *   if (events.length > 0) showUpdateNotice(events.map((event) => event.type));
 * });
 */
export function liveUnreadableEvents(db: StrataDatabase): LiveSubscribable<UnreadableEventRow[]> {
  return {
    subscribe: (observer) => liveQuery(() => readUnreadableEvents(db)).subscribe(observer as never),
  };
}

/** What `sync.status.unreadable` says; undefined when nothing is kept. */
export async function readUnreadableStatus(
  db: StrataDatabase,
): Promise<UnreadableStatus | undefined> {
  // Empty unless app versions are skewed: the status (read again on every command) pays a count.
  if ((await db.unreadable.count()) === 0) return undefined;
  const rows = await readUnreadableEvents(db);
  const types = new Map<string, { -readonly [K in keyof UnreadableType]: UnreadableType[K] }>();
  const held = new Set<string>();
  for (const row of rows) {
    held.add(streamKey(row));
    const key = JSON.stringify([row.type, row.schemaVersion, row.code]);
    const entry = types.get(key);
    if (entry === undefined) {
      types.set(key, {
        type: row.type,
        schemaVersion: row.schemaVersion,
        code: row.code,
        count: 1,
      });
    } else {
      entry.count++;
    }
  }
  return { count: rows.length, heldAggregates: held.size, types: [...types.values()] };
}

/**
 * Applies the kept events this sync's aggregates (and the projections') read, before the
 * session syncs: `createStrata` did so with the projections' aggregates alone
 * (release-readable.ts). A failure is the session's to report; nobody else awaits it.
 */
export function releaseForSync(context: SyncContext): Promise<ReleaseResult> {
  const { db, projections, clock } = context.strata;
  const released = releaseReadable(
    db,
    projections,
    readingDefinitions(context.aggregates.values(), projections),
    clock,
  );
  released.catch(() => undefined);
  return released;
}
