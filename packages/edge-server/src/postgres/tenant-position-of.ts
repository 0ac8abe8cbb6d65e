import type { SqlExecutor } from './sql-database.ts';
import { decodeClientCursor } from './tenant-cursor.ts';

/**
 * The tenant position a client's cursor stands for: a tenant cursor's own (no query), or for a
 * global cursor from before tenant positions, the place right before the tenant's first event
 * after it, so a deployed client resumes exactly where it was. `INVALID_CURSOR` for anything
 * else; absent: 0, the start.
 *
 * @example
 * await tenantPositionOf(db, 'acme', 't42'); // 42
 */
export async function tenantPositionOf(
  executor: SqlExecutor,
  tenant: string,
  cursor?: string,
): Promise<number> {
  const decoded = decodeClientCursor(cursor);
  if (decoded.kind === 'tenant') return decoded.position;
  const { transactionId, position } = decoded.cursor;
  // Events before the migration were numbered in global order, so "before the first event
  // after the old place" is exact for them; with none after it, the client was at the end.
  const { rows } = await executor.query<{ position: string | number }>(
    `SELECT coalesce(
       (SELECT min(tenant_position) - 1 FROM strata_events
        WHERE tenant = $1 AND (transaction_id, position) > ($2::text::xid8, $3::bigint)),
       (SELECT last FROM strata_tenant_positions WHERE tenant = $1),
       0) AS position`,
    [tenant, transactionId, position],
  );
  return Number(rows[0]?.position ?? 0);
}
