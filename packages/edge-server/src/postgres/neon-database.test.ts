import type { Pool } from '@neondatabase/serverless';
import { afterEach, describe, expect, it } from 'vitest';
import { checkPoolSettings, createNeonPool, NEON_POOL_DEFAULTS } from './neon-database.ts';

// Building a pool opens no connection: nothing listens on port 1, and nothing needs to.
const connectionString = 'postgres://user:password@127.0.0.1:1/db';
const pools: Pool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.end()));
});

/** The options the driver's pool was built with. */
function optionsOf(pool: Pool): Record<string, unknown> {
  pools.push(pool);
  return (pool as unknown as { options: Record<string, unknown> }).options;
}

describe('createNeonPool', () => {
  it('keeps the defaults for settings given as undefined or null (an unset option is not "wait forever")', () => {
    const options = optionsOf(
      createNeonPool({
        connectionString,
        max: undefined,
        connectionTimeoutMillis: undefined,
        idleTimeoutMillis: null as unknown as undefined,
      }),
    );
    expect(options).toMatchObject(NEON_POOL_DEFAULTS);
  });

  it('takes the settings given', () => {
    const options = optionsOf(
      createNeonPool({
        connectionString,
        max: 3,
        connectionTimeoutMillis: 700,
        idleTimeoutMillis: 0,
      }),
    );
    expect(options).toMatchObject({ max: 3, connectionTimeoutMillis: 700, idleTimeoutMillis: 0 });
  });
});

describe('checkPoolSettings', () => {
  it('accepts timeouts up to the longest a timer can wait (2^31 - 1 ms)', () => {
    const settings = { connectionTimeoutMillis: 2_147_483_647, idleTimeoutMillis: 2_147_483_647 };
    expect(checkPoolSettings(settings)).toBe(settings);
  });

  it.each([
    ['connectionTimeoutMillis', 2_147_483_648],
    ['idleTimeoutMillis', 3_000_000_000],
    ['idleTimeoutMillis', Number.MAX_SAFE_INTEGER],
  ])('refuses %s = %d: Node would fire the timer after 1 ms', (name, value) => {
    expect(() => checkPoolSettings({ [name]: value })).toThrow(
      new RangeError(
        `Pool setting ${name} must be at most 2147483647 ms (about 24.8 days, the longest a timer can wait), not ${value}`,
      ),
    );
  });

  it.each([
    ['max', 0],
    ['max', 1.5],
    ['connectionTimeoutMillis', 0],
    ['idleTimeoutMillis', -1],
    ['idleTimeoutMillis', '100'],
  ])('refuses %s = %o', (name, value) => {
    expect(() => checkPoolSettings({ [name]: value })).toThrow(RangeError);
  });
});
