// After an app update (issue 17): the events an older version kept unreadable, that this version
// reads, are applied on start from the local log (no download), in order, exactly once.
import {
  type AnyAggregateDefinition,
  applyInlineProjections,
  type InlineProjection,
  streamKey,
} from '@strata/core';
import { basesOf, coveredByBase } from '../bases/server-bases.ts';
import { withStorageErrors } from '../database/storage-errors.ts';
import type { EventRow, StrataDatabase, UnreadableEventRow } from '../database/strata-database.ts';
import { streamRange, toStoredEvent } from '../event-store/dexie-event-store.ts';
import type { StrataTransaction } from '../event-store/strata-transaction.ts';
import { allHolds } from './held-aggregates.ts';
import { type ReadingDefinitions, unreadableReason, unreadableRow } from './reading-definitions.ts';
import { readUndefinedTypes, writeUndefinedTypes } from './undefined-types.ts';

/** What `releaseReadable` did. */
export interface ReleaseResult {
  /** Events applied: they were held and this app version reads them (and all before them). */
  readonly released: number;
  /** Events still kept: this app version cannot read them either. */
  readonly kept: number;
}

/**
 * Reads every held aggregate's events again from its hold on, with `definitions` (this app
 * version's), in ONE read-write transaction: the events up to the first one still unreadable
 * go through the inline projections in local log order, and the `unreadable` rows say what is
 * still kept (an event now readable loses its row; one that still is not keeps it, with this
 * version's reason). Loads and live states follow the rows (held-aggregates.ts). Applying and
 * deleting the rows commit together, so each event is applied once, whichever tab runs it and
 * however often; an aggregate type `definitions` lacks stays held. The stored events of an
 * aggregate type an older version defined nowhere (undefined-types.ts), that `definitions` now
 * has, go through that type's typed projections the same way (the others saw them as they came).
 */
export async function releaseReadable(
  db: StrataDatabase,
  projections: readonly InlineProjection<StrataTransaction>[],
  definitions: ReadingDefinitions,
  clock: () => Date,
): Promise<ReleaseResult> {
  return withStorageErrors(async () => {
    // Nothing kept or noted: the usual start pays a count and a get, outside any transaction.
    const [count, noted] = await Promise.all([db.unreadable.count(), readUndefinedTypes(db)]);
    if (count === 0 && !noted.some((type) => definitions.has(type))) {
      return { released: 0, kept: 0 };
    }
    return db.transaction('rw', db.tables, async (dexie) => {
      const transaction: StrataTransaction = { dexie, table: (name) => db.table(name) };
      const now = clock().toISOString();
      const released: EventRow[] = [];
      const stillKept: UnreadableEventRow[] = [];
      const readableIds: string[] = [];
      for (const hold of (await allHolds(db)).values()) {
        const kept = await db.unreadable
          .where(STREAM_INDEX)
          .between(...streamRange(hold), true, true)
          .toArray();
        const readers = definitions.get(hold.aggregateType);
        if (readers === undefined) {
          stillKept.push(...kept);
          continue;
        }
        const rows = await db.events
          .where(STREAM_INDEX)
          .between(...streamRange(hold, hold.version), true, true)
          .toArray();
        const walked = walk(rows, readers, new Map(kept.map((row) => [row.id, row])), now);
        released.push(...walked.released);
        stillKept.push(...walked.kept);
        // Rows of events gone from the log (or now readable) go.
        const still = new Set(walked.kept.map((row) => row.id));
        readableIds.push(...kept.filter((row) => !still.has(row.id)).map((row) => row.id));
      }
      await project(db, projections, released, transaction);

      // Aggregate types an older version defined nowhere: their typed projections start now.
      const defined = noted.filter((type) => definitions.has(type));
      for (const type of defined) {
        const readers = definitions.get(type) ?? [];
        const rows = await db.events
          .where(STREAM_INDEX)
          .between([type], [type, []], true, true)
          .toArray();
        const typed = projections.filter((projection) => projection.aggregate?.type === type);
        const fresh: EventRow[] = [];
        for (const stream of byStream(rows)) {
          const walked = walk(stream, readers, new Map(), now);
          fresh.push(...walked.released);
          stillKept.push(...walked.kept);
        }
        await project(db, typed, fresh, transaction);
        released.push(...fresh);
      }
      await writeUndefinedTypes(
        db,
        noted.filter((type) => !defined.includes(type)),
      );
      await db.unreadable.bulkDelete(readableIds);
      await db.unreadable.bulkPut(stillKept);
      return { released: released.length, kept: stillKept.length };
    });
  });
}

const STREAM_INDEX = '[aggregateType+aggregateId+version]';

/**
 * One aggregate's events in version order, read with `readers`: those before the first one
 * they cannot read are released; that one and the later unreadable ones are kept (their rows
 * keep the time they were first kept).
 */
function walk(
  rows: readonly EventRow[],
  readers: readonly AnyAggregateDefinition[],
  keptBefore: ReadonlyMap<string, UnreadableEventRow>,
  now: string,
): { released: EventRow[]; kept: UnreadableEventRow[] } {
  const released: EventRow[] = [];
  const kept: UnreadableEventRow[] = [];
  for (const row of rows) {
    const event = toStoredEvent(row);
    const reason = unreadableReason(readers, event);
    if (reason === undefined) {
      if (kept.length === 0) released.push(row);
      continue;
    }
    const keptAt = keptBefore.get(row.id)?.keptAt ?? now;
    kept.push(unreadableRow(event, row.serverPosition, reason, keptAt));
  }
  return { released, kept };
}

/** Rows of one aggregate type (in index order) cut into its aggregates. */
function byStream(rows: readonly EventRow[]): EventRow[][] {
  const streams = new Map<string, EventRow[]>();
  for (const row of rows) {
    const key = streamKey(row);
    const list = streams.get(key);
    if (list === undefined) streams.set(key, [row]);
    else list.push(row);
  }
  return [...streams.values()];
}

/** Runs `rows` through `projections` in local log order; what a base covers is skipped. */
async function project(
  db: StrataDatabase,
  projections: readonly InlineProjection<StrataTransaction>[],
  rows: readonly EventRow[],
  transaction: StrataTransaction,
): Promise<void> {
  if (rows.length === 0 || projections.length === 0) return;
  const ordered = [...rows].sort((a, b) => a.position - b.position);
  const bases = await basesOf(db, [...new Map(ordered.map((r) => [streamKey(r), r])).values()]);
  const events = ordered.map(toStoredEvent).filter((event) => !coveredByBase(bases, event));
  await applyInlineProjections(projections, events, transaction);
}
