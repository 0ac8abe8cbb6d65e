import { type Snapshot, type StreamRef, streamKey } from '@strata/core';
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

type SnapshotRow = {
  aggregate_type: string;
  aggregate_id: string;
  version: number;
  state: unknown;
  fingerprint: string;
  taken_at: string | Date;
};

const snapshotOf = (
  row: Omit<SnapshotRow, 'aggregate_type' | 'aggregate_id'>,
  stream: StreamRef,
): Snapshot => ({
  aggregateType: stream.aggregateType,
  aggregateId: stream.aggregateId,
  version: row.version,
  state: row.state,
  fingerprint: row.fingerprint,
  takenAt: isoTime(row.taken_at),
});

/** A stream's snapshot, undefined when it has none. */
export async function loadSnapshotRow(
  executor: SqlExecutor,
  tenant: string,
  stream: StreamRef,
): Promise<Snapshot | undefined> {
  const { rows } = await executor.query<Omit<SnapshotRow, 'aggregate_type' | 'aggregate_id'>>(
    `SELECT version, state, fingerprint, taken_at FROM strata_snapshots
     WHERE tenant = $1 AND aggregate_type = $2 AND aggregate_id = $3`,
    [tenant, stream.aggregateType, stream.aggregateId],
  );
  const row = rows[0];
  return row === undefined ? undefined : snapshotOf(row, stream);
}

/** Several streams' snapshots in one statement, by stream key; none for a stream without. */
export async function loadSnapshotRows(
  executor: SqlExecutor,
  tenant: string,
  streams: readonly StreamRef[],
): Promise<Map<string, Snapshot>> {
  if (streams.length === 0) return new Map();
  const { rows } = await executor.query<SnapshotRow>(
    `SELECT aggregate_type, aggregate_id, version, state, fingerprint, taken_at FROM strata_snapshots
      WHERE tenant = $1 AND (aggregate_type, aggregate_id) IN
        (SELECT * FROM unnest($2::text[], $3::text[]))`,
    [
      tenant,
      streams.map((stream) => stream.aggregateType),
      streams.map((stream) => stream.aggregateId),
    ],
  );
  return new Map(
    rows.map((row) => {
      const stream = { aggregateType: row.aggregate_type, aggregateId: row.aggregate_id };
      return [streamKey(stream), snapshotOf(row, stream)];
    }),
  );
}
