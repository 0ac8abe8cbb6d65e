import { encodeGlobalCursor } from './global-cursor.ts';
import { isoTime } from './iso-time.ts';
import type { PostgresStoredEvent } from './postgres-stored-event.ts';
import { encodeTenantCursor } from './tenant-cursor.ts';

/** A `strata_events` row as the drivers return it (selected with `eventColumns`). */
export interface EventRow {
  position: string | number;
  tenant_position: string | number;
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

const EVENT_COLUMN_NAMES: readonly (keyof EventRow)[] = [
  'position',
  'tenant_position',
  'transaction_id',
  'tenant',
  'id',
  'type',
  'schema_version',
  'aggregate_type',
  'aggregate_id',
  'version',
  'data',
  'metadata',
  'occurred_at',
  'recorded_at',
];

/**
 * The `strata_events` columns `toStoredEvent` reads, qualified with `table` when a query joins.
 * The transaction id is selected as text (xid8 can exceed 2^53); order by the table's column,
 * never by this alias, which sorts as text.
 */
export function eventColumns(table?: string): string {
  const prefix = table === undefined ? '' : `${table}.`;
  return EVENT_COLUMN_NAMES.map((name) =>
    name === 'transaction_id'
      ? `${prefix}transaction_id::text AS transaction_id`
      : `${prefix}${name}`,
  ).join(', ');
}

/** The row as a stored event with its tenant, its cursor in the global order and its tenant's. */
export function toStoredEvent(row: EventRow): PostgresStoredEvent {
  const position = Number(row.position);
  const tenantPosition = Number(row.tenant_position);
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
    tenantPosition,
    tenantCursor: encodeTenantCursor(tenantPosition),
    tenant: row.tenant,
  };
}
