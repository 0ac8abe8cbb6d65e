import type { SqlExecutor } from '../postgres/sql-database.ts';

/** How long an instance reuses the log id it read: a database replaced under it shows within this. */
export const LOG_ID_CACHE_MS = 10_000;

/** The log id of the database behind this instance, read at most every `LOG_ID_CACHE_MS`. */
export interface LogIdentity {
  /** The id; undefined while the database cannot say (its migrations have not run, or it is down). */
  current(): Promise<string | undefined>;
}

/**
 * Reads `strata_log_identity` once per `cacheMs`, never in the way of a request: a failed read
 * answers undefined (the header is left out) and is tried again at the next request.
 *
 * @example
 * const identity = createLogIdentity(database);
 * response.headers.set(LOG_ID_HEADER, (await identity.current()) ?? '');
 */
export function createLogIdentity(
  database: SqlExecutor,
  { cacheMs = LOG_ID_CACHE_MS, now = () => Date.now() } = {},
): LogIdentity {
  let cached: { readonly id: string; readonly at: number } | undefined;
  let reading: Promise<string | undefined> | undefined;
  const read = async () => {
    try {
      const id = await readLogId(database);
      if (id !== undefined) cached = { id, at: now() };
      return id;
    } catch {
      return undefined;
    } finally {
      reading = undefined;
    }
  };
  return {
    current() {
      if (cached !== undefined && now() - cached.at < cacheMs) return Promise.resolve(cached.id);
      reading ??= read();
      return reading;
    },
  };
}

/** The stored log id (undefined before migration 12). */
export async function readLogId(database: SqlExecutor): Promise<string | undefined> {
  const { rows } = await database.query<{ log_id: string }>(
    'SELECT log_id FROM strata_log_identity',
  );
  return rows[0]?.log_id;
}

/**
 * Gives the database a new log id: run it after restoring a backup, so every client re-bootstraps
 * at once (the anchor check finds most restores anyway, but not one whose clients had read
 * nothing past the backup). Returns the new id.
 *
 * @example
 * await replaceLogIdentity(database); // after `pg_restore`
 */
export async function replaceLogIdentity(database: SqlExecutor): Promise<string> {
  const { rows } = await database.query<{ log_id: string }>(
    'UPDATE strata_log_identity SET log_id = gen_random_uuid()::text, created_at = now() RETURNING log_id',
  );
  return (rows[0] as { log_id: string }).log_id;
}
