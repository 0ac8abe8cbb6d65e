import type { InlineProjection, StoredEvent } from '@strata/core';
import { withStorageErrors } from '../database/storage-errors.ts';
import type { StrataDatabase } from '../database/strata-database.ts';
import { toStoredEvent } from '../event-store/dexie-event-store.ts';
import type { StrataTransaction } from '../event-store/strata-transaction.ts';

/** Progress of a projection rebuild. */
export interface RebuildProgress {
  readonly done: number;
  readonly total: number;
}

/** Options of `rebuildProjections`. */
export interface RebuildOptions {
  /** Called after each batch. */
  readonly onProgress?: (progress: RebuildProgress) => void;
  /** Events per transaction. Defaults to 2000. */
  readonly batchSize?: number;
}

/**
 * Clears the projection tables and replays the whole local log through the inline projections,
 * in local order, decoding each event through its projection's aggregate. Reactors do not run.
 */
export async function rebuildProjections(
  db: StrataDatabase,
  tables: readonly string[],
  projections: readonly InlineProjection<StrataTransaction>[],
  options: RebuildOptions = {},
): Promise<RebuildProgress> {
  const batchSize = options.batchSize ?? 2000;
  return withStorageErrors(async () => {
    const total = await db.events.count();
    const scope = [db.events, ...tables.map((name) => db.table(name))];
    await db.transaction('rw', scope, () =>
      Promise.all(tables.map((name) => db.table(name).clear())),
    );
    let done = 0;
    let after = 0;
    for (;;) {
      const batchDone = await db.transaction('rw', scope, async (dexie) => {
        const rows = await db.events.where('position').above(after).limit(batchSize).toArray();
        const transaction: StrataTransaction = { dexie, table: (name) => db.table(name) };
        for (const row of rows.map(toStoredEvent)) {
          for (const projection of projections) {
            const aggregate = projection.aggregate;
            if (aggregate !== undefined && aggregate.type !== row.aggregateType) continue;
            const event: StoredEvent = aggregate === undefined ? row : aggregate.events.decode(row);
            await projection.apply(event, transaction);
          }
        }
        after = rows[rows.length - 1]?.position ?? after;
        return rows.length;
      });
      done += batchDone;
      options.onProgress?.({ done, total: Math.max(total, done) });
      if (batchDone < batchSize) return { done, total: Math.max(total, done) };
    }
  });
}
