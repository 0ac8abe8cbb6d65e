import { type ReadStreamOptions, type StreamRef, streamKey } from '@strata/core';
import { decryptStoredEvents } from '../crypto/decrypt-stored-events.ts';
import { type EventRow, eventColumns, toStoredEvent } from './event-row.ts';
import { isoTime } from './iso-time.ts';
import type { PostgresStoredEvent } from './postgres-stored-event.ts';
import type { SqlExecutor } from './sql-database.ts';

/** A stream's summary: its last event (for version, type and place) and when it began. */
export interface PostgresStreamMetadata {
  readonly lastEvent: PostgresStoredEvent;
  /** When the first event was stored. */
  readonly createdAt: string;
  readonly snapshotVersion: number | undefined;
}

const EVENT_COLUMNS = eventColumns();

/** The version of a stream's last event, 0 when it has none. */
export async function streamVersion(
  executor: SqlExecutor,
  tenant: string,
  stream: StreamRef,
): Promise<number> {
  const { rows } = await executor.query<{ version: number | null }>(
    `SELECT max(version) AS version FROM strata_events
     WHERE tenant = $1 AND aggregate_type = $2 AND aggregate_id = $3`,
    [tenant, stream.aggregateType, stream.aggregateId],
  );
  return Number(rows[0]?.version ?? 0);
}

/** The version of each stream's last event (0 for none), by stream key, in one statement. */
export async function streamVersions(
  executor: SqlExecutor,
  tenant: string,
  streams: readonly StreamRef[],
): Promise<Map<string, number>> {
  const unique = [...new Map(streams.map((stream) => [streamKey(stream), stream])).values()];
  const { rows } = await executor.query<{ type: string; id: string; version: number | null }>(
    `SELECT s.type, s.id,
       (SELECT max(e.version) FROM strata_events e
        WHERE e.tenant = $1 AND e.aggregate_type = s.type AND e.aggregate_id = s.id) AS version
     FROM unnest($2::text[], $3::text[]) AS s (type, id)`,
    [tenant, unique.map((s) => s.aggregateType), unique.map((s) => s.aggregateId)],
  );
  return new Map(
    rows.map((row) => [
      streamKey({ aggregateType: row.type, aggregateId: row.id }),
      Number(row.version ?? 0),
    ]),
  );
}

/**
 * The tenant's stored events with these ids, by id. Decrypted, so a retry is compared with what
 * was sent (`planAppend` compares content), and the confirmation carries the plaintext as every
 * read does.
 */
export async function findStoredByIds(
  executor: SqlExecutor,
  tenant: string,
  ids: readonly string[],
): Promise<Map<string, PostgresStoredEvent>> {
  const { rows } = await executor.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM strata_events WHERE tenant = $1 AND id = ANY($2::text[])`,
    [tenant, ids],
  );
  const stored = await decryptStoredEvents(executor, rows.map(toStoredEvent));
  return new Map(stored.map((event) => [event.id, event]));
}

/** A stream's events from `fromVersion` (default 1), at most `limit`, decrypted. */
export async function readStreamEvents(
  executor: SqlExecutor,
  tenant: string,
  stream: StreamRef,
  options: ReadStreamOptions = {},
): Promise<PostgresStoredEvent[]> {
  const { rows } = await executor.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM strata_events
     WHERE tenant = $1 AND aggregate_type = $2 AND aggregate_id = $3 AND version >= $4
     ORDER BY version LIMIT $5`,
    [
      tenant,
      stream.aggregateType,
      stream.aggregateId,
      options.fromVersion ?? 1,
      options.limit ?? null,
    ],
  );
  return decryptStoredEvents(executor, rows.map(toStoredEvent));
}

/** What a stream is without its events, in one query; undefined when it has none. */
export async function readStreamMetadata(
  executor: SqlExecutor,
  tenant: string,
  stream: StreamRef,
): Promise<PostgresStreamMetadata | undefined> {
  const { rows } = await executor.query<
    EventRow & { created_at: string | Date; snapshot_version: number | null }
  >(
    `SELECT ${EVENT_COLUMNS},
       (SELECT recorded_at FROM strata_events first
        WHERE first.tenant = $1 AND first.aggregate_type = $2 AND first.aggregate_id = $3
          AND first.version = 1) AS created_at,
       (SELECT version FROM strata_snapshots snapshot
        WHERE snapshot.tenant = $1 AND snapshot.aggregate_type = $2
          AND snapshot.aggregate_id = $3) AS snapshot_version
     FROM strata_events
     WHERE tenant = $1 AND aggregate_type = $2 AND aggregate_id = $3
     ORDER BY version DESC LIMIT 1`,
    [tenant, stream.aggregateType, stream.aggregateId],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  const [lastEvent] = await decryptStoredEvents(executor, [toStoredEvent(row)]);
  return {
    lastEvent: lastEvent as PostgresStoredEvent,
    createdAt: isoTime(row.created_at),
    snapshotVersion: row.snapshot_version ?? undefined,
  };
}

/** One stream's read of `readStreamsEvents`: its events from `fromVersion`. */
export interface StreamRead extends StreamRef {
  readonly fromVersion: number;
}

/**
 * Several streams' events in one statement: for each read, its events from `fromVersion`, at
 * most `limit` of them, decrypted; one list per read, in the order of the reads.
 */
export async function readStreamsEvents(
  executor: SqlExecutor,
  tenant: string,
  reads: readonly StreamRead[],
  limit: number,
): Promise<PostgresStoredEvent[][]> {
  if (reads.length === 0) return [];
  const { rows } = await executor.query<EventRow & { read: string | number }>(
    `SELECT wanted.read, found.* FROM unnest($2::text[], $3::text[], $4::int[])
         WITH ORDINALITY AS wanted(aggregate_type, aggregate_id, from_version, read)
       CROSS JOIN LATERAL (
         SELECT ${EVENT_COLUMNS} FROM strata_events
          WHERE tenant = $1 AND aggregate_type = wanted.aggregate_type
            AND aggregate_id = wanted.aggregate_id AND version >= wanted.from_version
          ORDER BY version LIMIT $5
       ) AS found
      ORDER BY wanted.read, found.version`,
    [
      tenant,
      reads.map((read) => read.aggregateType),
      reads.map((read) => read.aggregateId),
      reads.map((read) => read.fromVersion),
      limit,
    ],
  );
  const events = await decryptStoredEvents(executor, rows.map(toStoredEvent));
  const byRead: PostgresStoredEvent[][] = reads.map(() => []);
  rows.forEach((row, index) => {
    byRead[Number(row.read) - 1]?.push(events[index] as PostgresStoredEvent);
  });
  return byRead;
}
