import { InvalidCursorError, type ReadAllOptions, type ReadAllResult } from '@strata/core';
import { decryptStoredEvents } from '../crypto/decrypt-stored-events.ts';
import { type EventRow, eventColumns, toStoredEvent } from './event-row.ts';
import type { PostgresStoredEvent } from './postgres-stored-event.ts';
import type { SqlExecutor } from './sql-database.ts';
import { encodeTenantCursor } from './tenant-cursor.ts';
import { tenantPositionOf } from './tenant-position-of.ts';

const EVENT_COLUMNS = eventColumns();
const DEFAULT_PAGE = 1000;

/** The tenant's last committed position: every position up to it is a committed event. */
export async function lastTenantPosition(executor: SqlExecutor, tenant: string): Promise<number> {
  const { rows } = await executor.query<{ last: string | number }>(
    'SELECT last FROM strata_tenant_positions WHERE tenant = $1',
    [tenant],
  );
  return Number(rows[0]?.last ?? 0);
}

/**
 * A page of the tenant's events in tenant-position order, after `options.after` (a tenant
 * cursor, or a global one from before tenant positions: see `tenantPositionOf`), decrypted.
 * The page's cursor is the tenant cursor of its last event, or `after`'s when it is empty.
 */
export async function readTenantPage(
  executor: SqlExecutor,
  tenant: string,
  options: ReadAllOptions = {},
): Promise<Omit<ReadAllResult, 'events'> & { events: PostgresStoredEvent[] }> {
  const after = await tenantPositionOf(executor, tenant, options.after);
  const limit = options.limit ?? DEFAULT_PAGE;
  // No xmin horizon: a committed tenant position implies every lower one is committed too.
  const { rows } = await executor.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM strata_events
     WHERE tenant = $1 AND tenant_position > $2
     ORDER BY tenant_position
     LIMIT $3`,
    [tenant, after, limit + 1],
  );
  // A cursor past the tenant's end is not one this log gave out (a restored or replaced
  // database numbers from 1 again): reading on from it would skip what comes next, silently.
  // Checked only on an empty page, so a reader that gets events pays nothing for it.
  if (rows.length === 0 && after > 0 && after > (await lastTenantPosition(executor, tenant))) {
    throw new InvalidCursorError(options.after ?? '');
  }
  // Every reader (pull, subscribe, history) gets payloads decrypted here.
  const page = await decryptStoredEvents(executor, rows.slice(0, limit).map(toStoredEvent));
  return {
    events: page,
    cursor: page.at(-1)?.tenantCursor ?? encodeTenantCursor(after),
    hasMore: rows.length > limit,
  };
}

/** How many of the tenant's events come after `cursor` (absent: all): dense positions make it a subtraction. */
export async function countAfterTenantCursor(
  executor: SqlExecutor,
  tenant: string,
  cursor?: string,
): Promise<number> {
  return Math.max(
    0,
    (await lastTenantPosition(executor, tenant)) -
      (await tenantPositionOf(executor, tenant, cursor)),
  );
}
