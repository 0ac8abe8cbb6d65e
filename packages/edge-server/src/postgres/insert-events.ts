import type { NewEvent, StreamRef } from '@strata/core';
import { type EventRow, eventColumns, toStoredEvent } from './event-row.ts';
import type { PostgresStoredEvent } from './postgres-stored-event.ts';
import type { SqlExecutor } from './sql-database.ts';

/** A statement and its parameters. */
export interface SqlStatement {
  readonly text: string;
  readonly params: readonly unknown[];
}

/** An aggregate and a version of it. */
export interface StreamAt {
  readonly stream: StreamRef;
  readonly version: number;
}

/** One event to insert: its aggregate and the version it takes there. */
export interface EventToInsert {
  readonly stream: StreamRef;
  readonly event: NewEvent;
  readonly version: number;
}

const EVENT_COLUMNS = eventColumns();

/**
 * The one statement of an append, for events of any number of aggregates: numbers them with
 * the tenant's counter in the given order and inserts them (the instances are told after
 * COMMIT: notify-appended.ts).
 * Parameters: $1 tenant, then one array per column ($2 ids, $3 aggregate types, $4 aggregate
 * ids, $5 types, $6 schema versions, $7 versions, $8 data, $9 metadata, $10 occurred at). Arrays keep the text and the parameter count the same whatever the number
 * of events (no 65,535-parameter ceiling; one plan for every push).
 *
 * The tenant's counter is bumped in the same statement and its row stays locked until COMMIT:
 * this tenant's appends commit in tenant-position order, and a rollback gives its numbers back,
 * so tenant positions are dense and a tenant reader never skips a late commit
 * (tenant-positions-schema.ts). It rides along with the INSERT to save a round trip.
 *
 * With `fit` ($11 types, $12 ids, $13 versions), the statement stores nothing unless every
 * listed aggregate stands at its listed version (a set-based version check in the same
 * statement: the one-statement append of append-commits.ts). A writer that got in between is
 * caught by the unique indexes.
 */
export function insertRowsStatement(
  tenant: string,
  rows: readonly EventToInsert[],
  fit?: readonly StreamAt[],
): SqlStatement {
  const column = <T>(pick: (row: EventToInsert) => T) => rows.map(pick);
  const params: unknown[] = [
    tenant,
    column(({ event }) => event.id),
    column(({ stream }) => stream.aggregateType),
    column(({ stream }) => stream.aggregateId),
    column(({ event }) => event.type),
    column(({ event }) => event.schemaVersion),
    column(({ version }) => version),
    column(({ event }) => JSON.stringify(event.data)),
    column(({ event }) => JSON.stringify(event.metadata)),
    column(({ event }) => event.occurredAt),
  ];
  let misfit = '';
  if (fit !== undefined) {
    params.push(
      fit.map(({ stream }) => stream.aggregateType),
      fit.map(({ stream }) => stream.aggregateId),
      fit.map(({ version }) => version),
    );
    misfit = `misfit AS (
         SELECT 1 FROM unnest($11::text[], $12::text[], $13::integer[]) AS f (type, id, version)
         WHERE f.version <> coalesce((SELECT max(e.version) FROM strata_events e
           WHERE e.tenant = $1 AND e.aggregate_type = f.type AND e.aggregate_id = f.id), 0)
         LIMIT 1
       ), `;
  }
  const text = `WITH ${misfit}numbered AS (
         INSERT INTO strata_tenant_positions AS counter (tenant, last)
         SELECT $1, cardinality($2::text[])${fit === undefined ? '' : ' WHERE NOT EXISTS (SELECT 1 FROM misfit)'}
         ON CONFLICT (tenant) DO UPDATE SET last = counter.last + excluded.last
         RETURNING counter.last
       ), inserted AS (
         INSERT INTO strata_events
           (tenant, aggregate_type, aggregate_id, tenant_position, id, type, schema_version,
            version, data, metadata, occurred_at)
         SELECT $1, v.aggregate_type, v.aggregate_id,
           numbered.last - cardinality($2::text[]) + v.ordinal, v.id, v.type, v.schema_version,
           v.version, v.data::jsonb, v.metadata::jsonb, v.occurred_at::timestamptz
         FROM numbered,
           unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::integer[],
                  $8::text[], $9::text[], $10::text[]) WITH ORDINALITY
             AS v (id, aggregate_type, aggregate_id, type, schema_version, version, data,
                   metadata, occurred_at, ordinal)
         ORDER BY v.ordinal
         RETURNING ${EVENT_COLUMNS}
       )
       SELECT * FROM inserted`;
  return { text, params };
}

/** `insertRowsStatement` for one stream's events, at versions from `firstVersion` on. */
export function insertEventsStatement(
  tenant: string,
  stream: StreamRef,
  events: readonly NewEvent[],
  firstVersion: number,
): SqlStatement {
  return insertRowsStatement(
    tenant,
    events.map((event, index) => ({ stream, event, version: firstVersion + index })),
  );
}

/**
 * Stores the rows as `insertRowsStatement` says; resolves them as stored, in the given order
 * (none when `fit` did not hold).
 */
export async function insertRows(
  tx: SqlExecutor,
  tenant: string,
  rows: readonly EventToInsert[],
  fit?: readonly StreamAt[],
): Promise<PostgresStoredEvent[]> {
  const { text, params } = insertRowsStatement(tenant, rows, fit);
  const { rows: inserted } = await tx.query<EventRow>(text, params);
  if (inserted.length === 0) return [];
  // RETURNING promises no order: the ids put the rows back in the order given.
  const byId = new Map(inserted.map((row) => [row.id, toStoredEvent(row)]));
  return rows.map(({ event }) => byId.get(event.id) as PostgresStoredEvent);
}

/** Stores one stream's events from `firstVersion` on; resolves them as stored, in version order. */
export function insertEvents(
  tx: SqlExecutor,
  tenant: string,
  stream: StreamRef,
  events: readonly NewEvent[],
  firstVersion: number,
): Promise<PostgresStoredEvent[]> {
  return insertRows(
    tx,
    tenant,
    events.map((event, index) => ({ stream, event, version: firstVersion + index })),
  );
}
