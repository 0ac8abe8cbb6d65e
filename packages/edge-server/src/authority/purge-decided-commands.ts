import { purgeInBatches, type RetentionOptions } from '../postgres/purge-in-batches.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';

/**
 * Options of `purgeDecidedCommands`. Make `olderThanMs` longer than a device may stay offline
 * with a push whose answer it lost: a command re-pushed after its row is gone is decided again.
 */
export type PurgeDecidedCommandsOptions = RetentionOptions;

/**
 * Retention for the command log (`strata_commands`): deletes the rows of commands decided more
 * than `olderThanMs` ago. Their events stay; only the re-push answer for those command ids goes.
 * Returns how many were deleted; call it again while that equals the limit, or on a schedule.
 *
 * @example
 * while ((await purgeDecidedCommands(db, { olderThanMs: 90 * 86_400_000 })) === 10_000);
 */
export function purgeDecidedCommands(
  database: SqlExecutor,
  options: PurgeDecidedCommandsOptions,
): Promise<number> {
  return purgeInBatches(
    database,
    options,
    `DELETE FROM strata_commands WHERE (tenant, command_id) IN (
       SELECT tenant, command_id FROM strata_commands
       WHERE decided_at < now() - $1::double precision * interval '1 millisecond'
       ORDER BY decided_at
       LIMIT $2)
     RETURNING 1`,
  );
}
