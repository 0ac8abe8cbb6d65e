import { decodedFor, receives } from '@strata/core';
import { encodeGlobalCursor, START_CURSOR } from '../postgres/global-cursor.ts';
import { readGlobalOrder } from '../postgres/postgres-event-store.ts';
import type { SqlDatabase, SqlExecutor } from '../postgres/sql-database.ts';
import type { AsyncProjection } from './async-projection.ts';

/** What one batch did. */
export interface ProjectedBatch {
  /** Events read from the global order (those of other aggregates included). */
  readonly read: number;
  /** The checkpoint after the batch. */
  readonly cursor: string;
  /** More events were waiting beyond this batch. */
  readonly hasMore: boolean;
}

/**
 * Applies the next batch of the no-skip global order to a projection and moves its checkpoint,
 * in one transaction. The checkpoint row is locked first, so projectors on several instances
 * take turns instead of applying a batch twice.
 */
export async function projectBatch(
  database: SqlDatabase,
  projection: AsyncProjection,
  batchSize: number,
): Promise<ProjectedBatch> {
  return database.transaction(async (transaction) => {
    const after = await lockCheckpoint(transaction, projection.name);
    const page = await readGlobalOrder(transaction, { after, limit: batchSize });
    // readGlobalOrder hands out events decrypted (or forgotten) already.
    for (const stored of page.events) {
      if (!receives(projection, stored)) continue;
      await projection.apply(decodedFor(projection, stored), {
        tenant: stored.tenant,
        transaction,
      });
    }
    if (page.events.length > 0) await saveCheckpoint(transaction, projection.name, page.cursor);
    return { read: page.events.length, cursor: page.cursor, hasMore: page.hasMore };
  });
}

/**
 * Runs the projection's `setup` (idempotent DDL) holding a lock named after the projection:
 * instances starting at once would otherwise race in `CREATE TABLE IF NOT EXISTS`, which
 * Postgres answers with a unique violation for the loser.
 */
export async function setUpProjection(
  transaction: SqlExecutor,
  projection: AsyncProjection,
): Promise<void> {
  if (projection.setup === undefined) return;
  await transaction.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
    `strata-projection:${projection.name}`,
  ]);
  await projection.setup(transaction);
}

/**
 * Projects batch after batch until the events readers can see now are done; `onBatch` hears the
 * events read so far after each batch. Returns the events read.
 */
export async function projectToTail(
  database: SqlDatabase,
  projection: AsyncProjection,
  batchSize: number,
  onBatch?: (read: number) => void,
): Promise<number> {
  let read = 0;
  for (;;) {
    const batch = await projectBatch(database, projection, batchSize);
    read += batch.read;
    onBatch?.(read);
    if (!batch.hasMore) return read;
  }
}

/** The projection's checkpoint, row-locked until the transaction ends (created at the start). */
export async function lockCheckpoint(transaction: SqlExecutor, name: string): Promise<string> {
  await transaction.query(
    `INSERT INTO strata_projection_checkpoints (name, cursor) VALUES ($1, $2)
     ON CONFLICT (name) DO NOTHING`,
    [name, encodeGlobalCursor(START_CURSOR)],
  );
  const { rows } = await transaction.query<{ cursor: string }>(
    'SELECT cursor FROM strata_projection_checkpoints WHERE name = $1 FOR UPDATE',
    [name],
  );
  return rows[0]?.cursor ?? encodeGlobalCursor(START_CURSOR);
}

/** Moves the projection's checkpoint (in the transaction that holds its lock). */
export async function saveCheckpoint(
  transaction: SqlExecutor,
  name: string,
  cursor: string,
): Promise<void> {
  await transaction.query(
    'UPDATE strata_projection_checkpoints SET cursor = $2, updated_at = now() WHERE name = $1',
    [name, cursor],
  );
}
