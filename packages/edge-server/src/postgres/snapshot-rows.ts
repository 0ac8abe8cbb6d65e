import type { Snapshot, StreamRef } from '@strata/core';
import { isoTime } from './iso-time.ts';
import type { SqlExecutor } from './sql-database.ts';

/**
 * Stores a stream's snapshot, replacing the one before (one per stream). Through `executor`: the
 * database, or an append's transaction when the snapshot comes with the append.
 */
export async function saveSnapshotRow(
  executor: SqlExecutor,
  tenant: string,
  snapshot: Snapshot,
): Promise<void> {
  await executor.query(
    `INSERT INTO strata_snapshots (tenant, aggregate_type, aggregate_id, version, state, fingerprint, taken_at)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::timestamptz)
     ON CONFLICT (tenant, aggregate_type, aggregate_id) DO UPDATE
     SET version = excluded.version, state = excluded.state,
         fingerprint = excluded.fingerprint, taken_at = excluded.taken_at`,
    [
      tenant,
      snapshot.aggregateType,
      snapshot.aggregateId,
      snapshot.version,
      JSON.stringify(snapshot.state),
      snapshot.fingerprint,
      snapshot.takenAt,
    ],
  );
}

/** A stream's snapshot, undefined when it has none. */
export async function loadSnapshotRow(
  executor: SqlExecutor,
  tenant: string,
  stream: StreamRef,
): Promise<Snapshot | undefined> {
  const { rows } = await executor.query<{
    version: number;
    state: unknown;
    fingerprint: string;
    taken_at: string | Date;
  }>(
    `SELECT version, state, fingerprint, taken_at FROM strata_snapshots
     WHERE tenant = $1 AND aggregate_type = $2 AND aggregate_id = $3`,
    [tenant, stream.aggregateType, stream.aggregateId],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  return {
    aggregateType: stream.aggregateType,
    aggregateId: stream.aggregateId,
    version: row.version,
    state: row.state,
    fingerprint: row.fingerprint,
    takenAt: isoTime(row.taken_at),
  };
}
