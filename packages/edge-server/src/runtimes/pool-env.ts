/**
 * The Postgres pool settings of a long-running server (Node, Bun, Deno) from the environment:
 * `STRATA_POOL_MAX`, `STRATA_POOL_IDLE_TIMEOUT_MS`, `STRATA_POOL_CONNECTION_TIMEOUT_MS`. Unset
 * variables keep `NEON_POOL_DEFAULTS`. Runtime-neutral, like env.ts.
 */
import { checkPoolSettings, MAX_TIMER_MS, type PoolSettings } from '../postgres/neon-database.ts';
import { envValue } from './env.ts';

/** Each pool setting and the variable that sets it (docs/production.md lists them; a test checks). */
export const POOL_ENV_VARS = {
  max: 'STRATA_POOL_MAX',
  idleTimeoutMillis: 'STRATA_POOL_IDLE_TIMEOUT_MS',
  connectionTimeoutMillis: 'STRATA_POOL_CONNECTION_TIMEOUT_MS',
} as const satisfies Record<keyof PoolSettings, string>;

/**
 * `{ pool }` with the settings the environment gives, `{}` when it gives none; throws a
 * `RangeError` naming the variable for a value that is not a usable whole number, so a typo
 * stops the server at startup instead of running with the driver's defaults.
 *
 * @example
 * poolFromEnv({ STRATA_POOL_MAX: '20' }); // { pool: { max: 20 } }
 */
export function poolFromEnv(env: object): { pool?: PoolSettings } {
  const pool: Record<string, number> = {};
  for (const [setting, name] of Object.entries(POOL_ENV_VARS)) {
    const text = envValue(env, name);
    if (text === undefined) continue;
    const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    try {
      checkPoolSettings({ [setting]: value });
    } catch {
      throw new RangeError(`${name} must be a whole number (${describe(setting)}), not ${text}`);
    }
    pool[setting] = value;
  }
  return Object.keys(pool).length === 0 ? {} : { pool };
}

function describe(setting: string): string {
  if (setting === 'max') return 'connections per process, at least 1';
  if (setting === 'idleTimeoutMillis') return `milliseconds, 0 for never, at most ${MAX_TIMER_MS}`;
  return `milliseconds, from 1 to ${MAX_TIMER_MS}`;
}
