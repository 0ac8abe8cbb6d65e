import type { InlineProjection } from '@strata/core';
import { applyInlineProjections, streamKey } from '@strata/core';
import { coveredByBase, projectBase } from '../bases/server-bases.ts';
import { withStorageErrors } from '../database/storage-errors.ts';
import type { StrataDatabase } from '../database/strata-database.ts';
import { toStoredEvent } from '../event-store/dexie-event-store.ts';
import type { StrataTransaction } from '../event-store/strata-transaction.ts';
import { allHolds, beforeHold } from '../unreadable/held-aggregates.ts';

/** Progress of a projection rebuild. */
export interface RebuildProgress {
  readonly done: number;
  readonly total: number;
}

/** Options of `rebuildProjections`. */
export interface RebuildOptions {
  /** Called after each batch. */
  readonly onProgress?: (progress: RebuildProgress) => void;
  /** Events read per page; progress is reported after each. Defaults to 2000. */
  readonly batchSize?: number;
}

/**
 * Clears the projection tables and replays the whole local log through the inline projections,
 * in local order, decoding each event through its projection's aggregate, all in one
 * transaction. An aggregate started from a server snapshot (its base) is projected from it; a held
 * one (an event this app version cannot read) up to its hold. Reactors do not run.
 */
export async function rebuildProjections(
  db: StrataDatabase,
  tables: readonly string[],
  projections: readonly InlineProjection<StrataTransaction>[],
  options: RebuildOptions = {},
): Promise<RebuildProgress> {
  const batchSize = options.batchSize ?? 2000;
  return withStorageErrors(() =>
    // One transaction: other tabs see the old tables or the rebuilt ones, never a half-built
    // state, and a crash midway leaves the old tables in place.
    db.transaction(
      'rw',
      [db.events, db.bases, db.unreadable, ...tables.map((name) => db.table(name))],
      async (dexie) => {
        const total = await db.events.count();
        await Promise.all(tables.map((name) => db.table(name).clear()));
        const transaction: StrataTransaction = { dexie, table: (name) => db.table(name) };
        // Aggregates started from a server snapshot start from it; the events it covers are skipped.
        const bases = new Map((await db.bases.toArray()).map((base) => [streamKey(base), base]));
        for (const base of bases.values()) await projectBase(projections, base, transaction);
        // A held aggregate is projected up to its hold (held-aggregates.ts).
        const holds = await allHolds(db);
        let done = 0;
        let after = 0;
        for (;;) {
          const rows = await db.events.where('position').above(after).limit(batchSize).toArray();
          const events = rows
            .map(toStoredEvent)
            .filter((event) => !coveredByBase(bases, event) && beforeHold(holds, event));
          await applyInlineProjections(projections, events, transaction);
          done += rows.length;
          after = rows[rows.length - 1]?.position ?? after;
          options.onProgress?.({ done, total });
          if (rows.length < batchSize) return { done, total };
        }
      },
    ),
  );
}
