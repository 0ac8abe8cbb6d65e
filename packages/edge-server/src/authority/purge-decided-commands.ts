import type { SqlExecutor } from '../postgres/sql-database.ts';

/** Options of `purgeDecidedCommands`. */
export interface PurgeDecidedCommandsOptions {
  /**
   * Keep commands decided less than this long ago. Make it longer than a device may stay offline
   * with a push whose answer it lost: a command re-pushed after its row is gone is decided again.
   */
  readonly olderThanMs: number;
  /** Most rows deleted by one call, so a big backlog is purged in short statements. Default 10,000. */
  readonly limit?: number;
}

/**
 * Retention for the command log (`strata_commands`): deletes the rows of commands decided more
 * than `olderThanMs` ago. Their events stay; only the re-push answer for those command ids goes.
 * Returns how many were deleted; call it again while that equals the limit, or on a schedule.
 *
 * @example
 * while ((await purgeDecidedCommands(db, { olderThanMs: 90 * 86_400_000 })) === 10_000);
 */
export async function purgeDecidedCommands(
  database: SqlExecutor,
  options: PurgeDecidedCommandsOptions,
): Promise<number> {
  const limit = options.limit ?? 10_000;
  if (!(options.olderThanMs >= 0) || !(Number.isInteger(limit) && limit > 0)) {
    throw new RangeError('olderThanMs must be >= 0 and limit a positive integer');
  }
  const { rows } = await database.query<{ count: number }>(
    `WITH purged AS (
       DELETE FROM strata_commands WHERE (tenant, command_id) IN (
         SELECT tenant, command_id FROM strata_commands
         WHERE decided_at < now() - $1::double precision * interval '1 millisecond'
         ORDER BY decided_at
         LIMIT $2)
       RETURNING 1
     )
     SELECT count(*)::integer AS count FROM purged`,
    [options.olderThanMs, limit],
  );
  return Number(rows[0]?.count ?? 0);
}
