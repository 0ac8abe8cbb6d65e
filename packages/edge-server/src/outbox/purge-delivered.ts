import type { SqlExecutor } from '../postgres/sql-database.ts';

/** Options of `purgeDeliveredMessages`. */
export interface PurgeDeliveredOptions {
  /** Keep messages delivered less than this long ago (for audits, debugging). */
  readonly olderThanMs: number;
  /** Most rows deleted by one call, so a big backlog is purged in short statements. Default 10,000. */
  readonly limit?: number;
}

/**
 * Retention for the outbox: deletes messages delivered more than `olderThanMs` ago. Pending and
 * dead messages are never touched. Returns how many were deleted; call it again while that
 * equals the limit (or on a schedule, e.g. as a background task of the server).
 *
 * @example
 * while ((await purgeDeliveredMessages(db, { olderThanMs: 7 * 86_400_000 })) === 10_000);
 */
export async function purgeDeliveredMessages(
  database: SqlExecutor,
  options: PurgeDeliveredOptions,
): Promise<number> {
  const limit = options.limit ?? 10_000;
  if (!(options.olderThanMs >= 0) || !(Number.isInteger(limit) && limit > 0)) {
    throw new RangeError('olderThanMs must be >= 0 and limit a positive integer');
  }
  const { rows } = await database.query<{ count: number }>(
    `WITH purged AS (
       DELETE FROM strata_outbox WHERE id IN (
         SELECT id FROM strata_outbox
         WHERE status = 'delivered'
           AND delivered_at < now() - $1::double precision * interval '1 millisecond'
         ORDER BY delivered_at
         LIMIT $2)
       RETURNING 1
     )
     SELECT count(*)::integer AS count FROM purged`,
    [options.olderThanMs, limit],
  );
  return Number(rows[0]?.count ?? 0);
}
