import type { SqlExecutor } from './sql-database.ts';

/** How old rows must be to go, and how many one call deletes (the retention functions' options). */
export interface RetentionOptions {
  /** Keep rows younger than this. */
  readonly olderThanMs: number;
  /** Most rows deleted by one call, so a big backlog is purged in short statements. Default 10,000. */
  readonly limit?: number;
}

/**
 * Runs one retention batch: `deleteStatement` is a `DELETE ... RETURNING 1` whose `$1` is the age
 * in milliseconds and `$2` the batch size. Checks the options, returns how many rows went.
 */
export async function purgeInBatches(
  database: SqlExecutor,
  options: RetentionOptions,
  deleteStatement: string,
): Promise<number> {
  const limit = options.limit ?? 10_000;
  if (!(options.olderThanMs >= 0) || !(Number.isInteger(limit) && limit > 0)) {
    throw new RangeError('olderThanMs must be >= 0 and limit a positive integer');
  }
  const { rows } = await database.query<{ count: number }>(
    `WITH purged AS (${deleteStatement}) SELECT count(*)::integer AS count FROM purged`,
    [options.olderThanMs, limit],
  );
  return Number(rows[0]?.count ?? 0);
}
