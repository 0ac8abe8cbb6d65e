import { encodeGlobalCursor } from '../postgres/global-cursor.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-event-store.ts';

/** `strata_events` columns as `toStoredEvent` reads them; prefix with the table alias `e`. */
export const EVENT_COLUMNS = `e.position, e.transaction_id::text AS transaction_id, e.tenant, e.id, e.type,
  e.schema_version, e.aggregate_type, e.aggregate_id, e.version, e.data, e.metadata, e.occurred_at,
  e.recorded_at`;

/** A `strata_events` row as the drivers return it. */
export interface EventRow {
  position: string | number;
  tenant: string;
  transaction_id: string;
  id: string;
  type: string;
  schema_version: number;
  aggregate_type: string;
  aggregate_id: string;
  version: number;
  data: unknown;
  metadata: Record<string, never>;
  occurred_at: string | Date;
  recorded_at: string | Date;
}

/**
 * The row as the stored event the Postgres store's readers return, cursor included. The store
 * keeps its own mapper private; this one must stay in step with it (same fields, same cursor).
 */
export function toStoredEvent(row: EventRow): PostgresStoredEvent {
  const position = Number(row.position);
  return {
    id: row.id,
    type: row.type,
    schemaVersion: row.schema_version,
    aggregateType: row.aggregate_type,
    aggregateId: row.aggregate_id,
    version: row.version,
    occurredAt: isoTime(row.occurred_at),
    data: row.data,
    metadata: row.metadata,
    position,
    recordedAt: isoTime(row.recorded_at),
    cursor: encodeGlobalCursor({ transactionId: row.transaction_id, position }),
    tenant: row.tenant,
  };
}

/** Drivers return timestamptz as a Date (Neon) or a string (PGlite); the API speaks ISO strings. */
export function isoTime(value: string | Date): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}
