import { purgeInBatches, type RetentionOptions } from '../postgres/purge-in-batches.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';

/** Options of `purgeDeliveredMessages`: keep messages delivered less than `olderThanMs` ago. */
export type PurgeDeliveredOptions = RetentionOptions;

/**
 * Retention for the outbox: deletes messages delivered more than `olderThanMs` ago. Pending and
 * dead messages are never touched. Returns how many were deleted; call it again while that
 * equals the limit (or on a schedule, e.g. as a background task of the server).
 *
 * @example
 * while ((await purgeDeliveredMessages(db, { olderThanMs: 7 * 86_400_000 })) === 10_000);
 */
export function purgeDeliveredMessages(
  database: SqlExecutor,
  options: PurgeDeliveredOptions,
): Promise<number> {
  return purgeInBatches(
    database,
    options,
    `DELETE FROM strata_outbox WHERE id IN (
       SELECT id FROM strata_outbox
       WHERE status = 'delivered'
         AND delivered_at < now() - $1::double precision * interval '1 millisecond'
       ORDER BY delivered_at
       LIMIT $2)
     RETURNING 1`,
  );
}
