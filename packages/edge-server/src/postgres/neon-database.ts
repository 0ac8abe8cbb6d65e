import { Pool, type PoolClient, type PoolConfig } from '@neondatabase/serverless';
import { isConnectionLoss, toDatabaseError } from './connection-errors.ts';
import type { SqlDatabase } from './sql-database.ts';

/**
 * The pool settings strata applies unless told otherwise (issue 12): a request must not hang
 * while the database is down, and connections the database dropped must not linger.
 * - `max: 10` connections per process (the driver's default, named here).
 * - `connectionTimeoutMillis: 5_000`: a connection not made in 5 s (database down, proxy
 *   unreachable, every pooled connection busy) fails, and the request answers 503 UNAVAILABLE.
 * - `idleTimeoutMillis: 30_000`: idle connections are closed after 30 s.
 */
export const NEON_POOL_DEFAULTS = {
  max: 10,
  connectionTimeoutMillis: 5_000,
  idleTimeoutMillis: 30_000,
} as const satisfies PoolConfig;

/**
 * The pool settings a deployment may change (`pool` of the server options, `STRATA_POOL_*`):
 * how many connections a process opens at most, and the two timeouts. See docs/production.md.
 */
export interface PoolSettings {
  /** Connections per process at most (each instance opens its own; one more for LISTEN). */
  readonly max?: number | undefined;
  /** An idle connection is closed after this long (0: never). */
  readonly idleTimeoutMillis?: number | undefined;
  /** A connection not made (or lent by a busy pool) in this long fails: 503 UNAVAILABLE. */
  readonly connectionTimeoutMillis?: number | undefined;
}

/**
 * `settings` unchanged when each given value is usable, else a `RangeError` naming the setting
 * and the value (at startup, before any request): `max` a whole number from 1, the timeouts whole
 * milliseconds, `connectionTimeoutMillis` from 1 (0 would let a request wait forever for a
 * connection, which is what the default exists to prevent), both at most `MAX_TIMER_MS`.
 */
export function checkPoolSettings<T extends { readonly [K in keyof PoolSettings]?: unknown }>(
  settings: T,
): T {
  const check = (name: keyof PoolSettings, least: number) => {
    const value = settings[name];
    if (value === undefined || value === null) return; // the driver's own "not set"
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < least) {
      throw new RangeError(
        `Pool setting ${name} must be a whole number of at least ${least}, not ${String(value)}`,
      );
    }
  };
  check('max', 1);
  check('idleTimeoutMillis', 0);
  check('connectionTimeoutMillis', 1);
  for (const name of ['idleTimeoutMillis', 'connectionTimeoutMillis'] as const) {
    const value = settings[name];
    // Node fires a timer set past 2^31 - 1 ms after 1 ms (with a warning): a "wait a month"
    // timeout would fail every connection at once, or close every idle one.
    if (typeof value === 'number' && value > MAX_TIMER_MS) {
      throw new RangeError(
        `Pool setting ${name} must be at most ${MAX_TIMER_MS} ms (about 24.8 days, the longest a timer can wait), not ${value}`,
      );
    }
  }
  return settings;
}

/** The longest a `setTimeout` can wait, in milliseconds (2^31 - 1). */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * A Neon driver `Pool` with `NEON_POOL_DEFAULTS` under `config`, and an 'error' listener (an idle
 * connection that dies must not crash the process; the pool replaces it). `onError` receives those
 * errors; it defaults to ignoring them.
 *
 * @example
 * const pool = createNeonPool({ connectionString: env.DATABASE_URL }, (error) => log(describeError(error)));
 * const db = neonDatabase(pool);
 */
export function createNeonPool(config: PoolConfig, onError?: (error: unknown) => void): Pool {
  // An option given as undefined (or null) is not set: spread as it is, it would erase the
  // default, and a pool without a connection timeout lets a request wait forever.
  const given = Object.fromEntries(
    Object.entries(checkPoolSettings(config)).filter(
      ([, value]) => value !== undefined && value !== null,
    ),
  ) as PoolConfig;
  const pool = new Pool({ ...NEON_POOL_DEFAULTS, ...given });
  pool.on('error', (error: Error) => onError?.(error));
  return pool;
}

/**
 * A `SqlDatabase` over a Neon driver `Pool` (WebSocket Postgres protocol): the production path
 * on edge runtimes. Each transaction holds one pooled connection from BEGIN to COMMIT. A lost
 * connection (refused, terminated, timed out) is thrown as `UnavailableError` (503, Retry-After);
 * other database errors are thrown as the driver raised them.
 *
 * @example
 * const db = neonDatabase(createNeonPool({ connectionString: env.DATABASE_URL }));
 */
export function neonDatabase(pool: Pool): SqlDatabase {
  // An idle pooled connection that dies (restart, idle timeout, admin termination) is dropped by
  // the pool; without a listener its 'error' event would crash the process.
  if (pool.listenerCount('error') === 0) pool.on('error', () => undefined);
  return {
    query: async (text, params = []) => {
      try {
        const result = await pool.query(text, [...params]);
        return { rows: result.rows };
      } catch (error) {
        throw toDatabaseError(error);
      }
    },
    async transaction(work) {
      const client = await connect(pool);
      // A checked-out client is not the pool's to watch: when its connection drops mid-transaction
      // (pg_terminate_backend, `pg_ctl stop -m immediate`) it emits 'error', which with no
      // listener would end the process (issue 12, item 1). The query in flight fails on its own.
      let broken: Error | undefined;
      const onClientError = (error: Error) => {
        broken = error;
      };
      client.on('error', onClientError);
      try {
        await client.query('BEGIN');
        const result = await work({
          query: async (text, params = []) => {
            try {
              return { rows: (await client.query(text, [...params])).rows };
            } catch (error) {
              if (isConnectionLoss(error)) broken ??= asError(error);
              throw toDatabaseError(error);
            }
          },
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        // A connection that is gone or whose ROLLBACK failed is in an unknown state: released as
        // broken, so the pool closes it instead of lending it again.
        if (broken === undefined) {
          await client.query('ROLLBACK').catch((rollbackError: unknown) => {
            broken = asError(rollbackError);
          });
        }
        if (isConnectionLoss(error)) broken ??= asError(error);
        throw toDatabaseError(error);
      } finally {
        client.off('error', onClientError);
        client.release(broken);
      }
    },
  };
}

async function connect(pool: Pool): Promise<PoolClient> {
  try {
    return await pool.connect();
  } catch (error) {
    throw toDatabaseError(error);
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
