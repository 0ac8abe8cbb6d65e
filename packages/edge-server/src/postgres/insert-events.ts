import type { NewEvent, StreamRef } from '@strata/core';
import { EVENTS_CHANNEL } from '../migrations/migrations.ts';
import { type EventRow, eventColumns, toStoredEvent } from './event-row.ts';
import type { PostgresStoredEvent } from './postgres-stored-event.ts';
import type { SqlExecutor } from './sql-database.ts';

/** A statement and its parameters. */
export interface SqlStatement {
  readonly text: string;
  readonly params: readonly unknown[];
}

const EVENT_COLUMNS = eventColumns();

/**
 * The one statement of an append: numbers the events with the tenant's counter, inserts them
 * from `firstVersion` on, and notifies the instances. Parameters: $1 tenant, $2 aggregate type,
 * $3 aggregate id, $4 how many positions of the tenant's counter this append takes, seven per
 * event (id, type, schema version, version, data, metadata, occurred at), and the channel last.
 *
 * The tenant's counter is bumped in the same statement and its row stays locked until COMMIT:
 * this tenant's appends commit in tenant-position order, and a rollback gives its numbers back,
 * so tenant positions are dense and a tenant reader never skips a late commit
 * (tenant-positions-schema.ts). The notification is delivered at commit, to every instance
 * listening: their readers wake at once. Both ride along with the INSERT to save round trips.
 */
export function insertEventsStatement(
  tenant: string,
  stream: StreamRef,
  events: readonly NewEvent[],
  firstVersion: number,
): SqlStatement {
  const params: unknown[] = [tenant, stream.aggregateType, stream.aggregateId, events.length];
  const values = events.map((event, index) => {
    const at = params.length;
    params.push(
      event.id,
      event.type,
      event.schemaVersion,
      firstVersion + index,
      JSON.stringify(event.data),
      JSON.stringify(event.metadata),
      event.occurredAt,
    );
    return `(${index + 1}, $${at + 1}::text, $${at + 2}::text, $${at + 3}::integer, $${at + 4}::integer, $${at + 5}::jsonb, $${at + 6}::jsonb, $${at + 7}::timestamptz)`;
  });
  params.push(EVENTS_CHANNEL);
  const text = `WITH numbered AS (
         INSERT INTO strata_tenant_positions AS counter (tenant, last) VALUES ($1, $4::bigint)
         ON CONFLICT (tenant) DO UPDATE SET last = counter.last + excluded.last
         RETURNING counter.last
       ), inserted AS (
         INSERT INTO strata_events
           (tenant, aggregate_type, aggregate_id, tenant_position, id, type, schema_version,
            version, data, metadata, occurred_at)
         SELECT $1, $2, $3, numbered.last - $4::bigint + v.ordinal, v.id, v.type,
           v.schema_version, v.version, v.data, v.metadata, v.occurred_at
         FROM numbered,
           (VALUES ${values.join(', ')})
             AS v (ordinal, id, type, schema_version, version, data, metadata, occurred_at)
         ORDER BY v.ordinal
         RETURNING ${EVENT_COLUMNS}
       ), notified AS (SELECT pg_notify($${params.length}, $1))
       SELECT inserted.* FROM inserted, notified`;
  return { text, params };
}

/** Stores the events as `insertEventsStatement` says; resolves them as stored, in version order. */
export async function insertEvents(
  tx: SqlExecutor,
  tenant: string,
  stream: StreamRef,
  events: readonly NewEvent[],
  firstVersion: number,
): Promise<PostgresStoredEvent[]> {
  const { text, params } = insertEventsStatement(tenant, stream, events, firstVersion);
  const { rows } = await tx.query<EventRow>(text, params);
  return rows.map(toStoredEvent).sort((a, b) => a.version - b.version);
}
