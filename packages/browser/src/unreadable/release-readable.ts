// After an app update (issue 17): the events an older version kept unreadable, that this version
// reads, are applied on start from the local log (no download), in order, exactly once.
import { applyInlineProjections, type InlineProjection, streamKey } from '@strata/core';
import { basesOf, coveredByBase } from '../bases/server-bases.ts';
import { withStorageErrors } from '../database/storage-errors.ts';
import type { EventRow, StrataDatabase, UnreadableEventRow } from '../database/strata-database.ts';
import { streamRange, toStoredEvent } from '../event-store/dexie-event-store.ts';
import type { StrataTransaction } from '../event-store/strata-transaction.ts';
import { allHolds } from './held-aggregates.ts';
import { type ReadingDefinitions, unreadableReason, unreadableRow } from './reading-definitions.ts';

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
 * however often; an aggregate type `definitions` lacks stays held.
 */
export async function releaseReadable(
  db: StrataDatabase,
  projections: readonly InlineProjection<StrataTransaction>[],
  definitions: ReadingDefinitions,
  clock: () => Date,
): Promise<ReleaseResult> {
  return withStorageErrors(async () => {
    // Nothing kept: the usual start pays one count, outside any write transaction.
    if ((await db.unreadable.count()) === 0) return { released: 0, kept: 0 };
    return db.transaction('rw', db.tables, async (dexie) => {
      const released: EventRow[] = [];
      const stillKept: UnreadableEventRow[] = [];
      const readableIds: string[] = [];
      for (const hold of (await allHolds(db)).values()) {
        const kept = await db.unreadable
          .where('[aggregateType+aggregateId+version]')
          .between(...streamRange(hold), true, true)
          .toArray();
        const readers = definitions.get(hold.aggregateType);
        if (readers === undefined) {
          stillKept.push(...kept);
          continue;
        }
        const keptById = new Map(kept.map((row) => [row.id, row]));
        const rows = await db.events
          .where('[aggregateType+aggregateId+version]')
          .between(...streamRange(hold, hold.version), true, true)
          .toArray();
        let held = false;
        for (const row of rows) {
          const reason = unreadableReason(readers, toStoredEvent(row));
          if (reason === undefined) {
            if (!held) released.push(row);
            continue;
          }
          held = true;
          const before = keptById.get(row.id);
          stillKept.push(
            unreadableRow(
              toStoredEvent(row),
              row.serverPosition,
              reason,
              before?.keptAt ?? clock().toISOString(),
            ),
          );
        }
        // Rows of events gone from the log (or now readable) go.
        const still = new Set(stillKept.map((row) => row.id));
        readableIds.push(...kept.filter((row) => !still.has(row.id)).map((row) => row.id));
      }
      await db.unreadable.bulkDelete(readableIds);
      await db.unreadable.bulkPut(stillKept);
      released.sort((a, b) => a.position - b.position);
      const transaction: StrataTransaction = { dexie, table: (name) => db.table(name) };
      const bases = await basesOf(db, [
        ...new Map(released.map((r) => [streamKey(r), r])).values(),
      ]);
      const events = released.map(toStoredEvent).filter((event) => !coveredByBase(bases, event));
      await applyInlineProjections(projections, events, transaction);
      return { released: released.length, kept: stillKept.length };
    });
  });
}
