import { encodeGlobalCursor, START_CURSOR } from '../postgres/global-cursor.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import type { AsyncProjection } from './async-projection.ts';
import { lockCheckpoint, projectToTail, saveCheckpoint, setUpProjection } from './project-batch.ts';

/** Progress of a rebuild, after each batch. */
export interface RebuildProgress {
  readonly projection: string;
  /** Events read so far. */
  readonly processed: number;
  /** Events readers could see when the rebuild started (appends during it add to `processed`). */
  readonly total: number;
}

/** Options of `rebuildProjection`. */
export interface RebuildOptions {
  /** Events per transaction. Defaults to 500. */
  readonly batchSize?: number;
  readonly onProgress?: (progress: RebuildProgress) => void;
}

/**
 * Rebuilds a projection from the first event: empties its tables and rewinds its checkpoint in
 * one transaction, then projects batch by batch up to the events readers can see. Runners
 * elsewhere keep working meanwhile (they take turns on the same checkpoint), so the rebuilt
 * projection is the one they go on keeping. Returns the events read.
 *
 * @example
 * await rebuildProjection(database, todoList, { onProgress: ({ processed, total }) => console.log(`${processed}/${total}`) });
 */
export async function rebuildProjection(
  database: SqlDatabase,
  projection: AsyncProjection,
  options: RebuildOptions = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 500;
  const total = await countVisibleEvents(database);
  await database.transaction(async (transaction) => {
    await setUpProjection(transaction, projection);
    await lockCheckpoint(transaction, projection.name);
    await projection.reset(transaction);
    await saveCheckpoint(transaction, projection.name, encodeGlobalCursor(START_CURSOR));
  });
  const report = (processed: number) =>
    options.onProgress?.({ projection: projection.name, processed, total });
  report(0);
  return projectToTail(database, projection, batchSize, report);
}

/** Every tenant's events readers may serve now. */
async function countVisibleEvents(database: SqlDatabase): Promise<number> {
  const { rows } = await database.query<{ count: string | number }>(
    `SELECT count(*) AS count FROM strata_events
     WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())`,
  );
  return Number(rows[0]?.count ?? 0);
}
