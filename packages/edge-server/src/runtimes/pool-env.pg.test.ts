import { fileURLToPath } from 'node:url';
import { UnavailableError } from '@strata/core';
import {
  createTestDatabase,
  type Pool,
  type TestDatabase,
  testPostgres,
} from '@strata/tooling/postgres/neon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnProcess } from '../../test/fixtures/node/spawn-server.ts';
import { migrate } from '../migrations/migrations.ts';
import { NEON_POOL_DEFAULTS } from '../postgres/neon-database.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import { POOL_ENV_VARS, poolFromEnv } from './pool-env.ts';
import { openServerDatabase, type ServerDatabase, serverOptionsFromEnv } from './server-app.ts';

// The pool settings from the environment reach the Neon driver's pool of a long-running server
// (Node, Bun and Deno all build it through serverOptionsFromEnv and openServerDatabase): counted
// as connections Postgres sees, and as the wait a full pool ends with.
const packageDir = fileURLToPath(new URL('../..', import.meta.url));
let db: TestDatabase;
let admin: Pool;
const opened: ServerDatabase[] = [];

beforeAll(async () => {
  db = await createTestDatabase('strata_pool');
  admin = db.createPool({ max: 1 });
});

afterAll(async () => {
  await Promise.allSettled(opened.map((database) => database.close()));
  await admin?.end();
  await db?.drop();
});

async function openFromEnv(env: Record<string, string>): Promise<SqlDatabase> {
  const options = serverOptionsFromEnv({
    DATABASE_URL: db.url,
    NEON_WS_PROXY: `127.0.0.1:${testPostgres().wsProxyPort}`,
    ...env,
  });
  const database = await openServerDatabase(options);
  opened.push(database);
  return database.database;
}

/** Sessions on the test database other than the admin pool's own. */
async function sessions(): Promise<number> {
  const { rows } = await admin.query<{ count: string }>(
    'SELECT count(*) AS count FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [db.name],
  );
  return Number(rows[0]?.count);
}

/** `count` transactions that each hold a connection until `release` is called. */
async function holdConnections(database: SqlDatabase, count: number) {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let holding = 0;
  const held = Array.from({ length: count }, () =>
    database.transaction(async (tx) => {
      await tx.query('SELECT 1');
      holding++;
      await gate;
    }),
  );
  await expect.poll(() => holding, { timeout: 10_000 }).toBe(count);
  return {
    release: async () => {
      release();
      await Promise.all(held);
    },
  };
}

describe('STRATA_POOL_* on a server database', () => {
  it('STRATA_POOL_MAX=2 and a 300 ms connection timeout: two connections, the third wait is a 503', async () => {
    const database = await openFromEnv({
      STRATA_POOL_MAX: '2',
      STRATA_POOL_CONNECTION_TIMEOUT_MS: '300',
    });
    await migrate(database);
    const held = await holdConnections(database, 2);
    expect(await sessions()).toBe(2);
    const started = Date.now();
    const third = await database.query('SELECT 1').catch((error: unknown) => error);
    const waited = Date.now() - started;
    expect(third).toBeInstanceOf(UnavailableError);
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(3_000); // not the default 5 s
    await held.release();
    expect((await database.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it(`STRATA_POOL_MAX=12 opens more than the default ${NEON_POOL_DEFAULTS.max} at once`, async () => {
    const before = await sessions();
    const database = await openFromEnv({ STRATA_POOL_MAX: '12' });
    const held = await holdConnections(database, 12);
    expect((await sessions()) - before).toBe(12);
    await held.release();
  });

  it('STRATA_POOL_IDLE_TIMEOUT_MS closes idle connections after that long', async () => {
    const before = await sessions();
    const database = await openFromEnv({ STRATA_POOL_IDLE_TIMEOUT_MS: '200' });
    const held = await holdConnections(database, 3);
    await held.release();
    // Back to where it was well before the default 30 s.
    await expect.poll(sessions, { timeout: 5_000, interval: 100 }).toBe(before);
  });

  it('the `pool` option is checked too: max 0 fails before any connection is made', async () => {
    await expect(openServerDatabase({ databaseUrl: db.url, pool: { max: 0 } })).rejects.toThrow(
      /Pool setting max must be a whole number of at least 1, not 0/,
    );
  });
});

describe('STRATA_LISTEN_URL', () => {
  // Told apart by application_name: the pool's sessions and the LISTEN session.
  const named = (name: string) => {
    const url = new URL(db.url);
    url.searchParams.set('application_name', name);
    return url.toString();
  };
  const sessionsOf = async (name: string) => {
    const { rows } = await admin.query<{ query: string }>(
      'SELECT query FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
      [db.name, name],
    );
    return rows.map((row) => row.query);
  };

  it('the LISTEN session goes to STRATA_LISTEN_URL, queries to DATABASE_URL', async () => {
    const options = serverOptionsFromEnv({
      DATABASE_URL: named('strata-pooled'),
      STRATA_LISTEN_URL: named('strata-direct'),
      NEON_WS_PROXY: `127.0.0.1:${testPostgres().wsProxyPort}`,
    });
    const server = await openServerDatabase(options);
    opened.push(server);
    let notified = 0;
    const stop = await server.listen(() => {
      notified++;
    });
    await server.database.query('SELECT 1');
    expect(await sessionsOf('strata-direct')).toEqual(['LISTEN strata_events']);
    expect((await sessionsOf('strata-pooled')).some((query) => query.includes('LISTEN'))).toBe(
      false,
    );
    // And it hears what the pooled side sends.
    await server.database.query("SELECT pg_notify('strata_events', 'a-tenant')");
    await expect.poll(() => notified, { timeout: 5_000 }).toBeGreaterThan(0);
    await stop();
  });

  it('without it, LISTEN uses DATABASE_URL', async () => {
    const server = await openServerDatabase(
      serverOptionsFromEnv({
        DATABASE_URL: named('strata-one-url'),
        NEON_WS_PROXY: `127.0.0.1:${testPostgres().wsProxyPort}`,
      }),
    );
    opened.push(server);
    const stop = await server.listen(() => undefined);
    expect(await sessionsOf('strata-one-url')).toContain('LISTEN strata_events');
    await stop();
  });
});

describe('bad STRATA_POOL_* values fail at startup, naming the variable', () => {
  it.each([
    ['STRATA_POOL_MAX', 'ten'],
    ['STRATA_POOL_MAX', '0'],
    ['STRATA_POOL_MAX', '-3'],
    ['STRATA_POOL_MAX', '2.5'],
    ['STRATA_POOL_MAX', '1e3'],
    ['STRATA_POOL_CONNECTION_TIMEOUT_MS', '0'],
    ['STRATA_POOL_IDLE_TIMEOUT_MS', '30s'],
    // Past the longest a timer can wait (Node would fire it after 1 ms).
    ['STRATA_POOL_CONNECTION_TIMEOUT_MS', '2147483648'],
    ['STRATA_POOL_IDLE_TIMEOUT_MS', '9007199254740991'],
  ])('%s=%s', (name, value) => {
    expect(() => poolFromEnv({ [name]: value })).toThrow(
      new RegExp(`^${name} must be a whole number \\(.*\\), not ${value}$`),
    );
  });

  it('unset or blank variables keep the defaults; set ones are numbers', () => {
    expect(poolFromEnv({})).toEqual({});
    expect(poolFromEnv({ STRATA_POOL_MAX: ' ' })).toEqual({});
    expect(
      poolFromEnv({
        STRATA_POOL_MAX: '20',
        STRATA_POOL_IDLE_TIMEOUT_MS: '0',
        STRATA_POOL_CONNECTION_TIMEOUT_MS: '2000',
      }),
    ).toEqual({ pool: { max: 20, idleTimeoutMillis: 0, connectionTimeoutMillis: 2000 } });
    expect(poolFromEnv({ STRATA_POOL_CONNECTION_TIMEOUT_MS: '2147483647' })).toEqual({
      pool: { connectionTimeoutMillis: 2_147_483_647 },
    });
    expect(() => poolFromEnv({ STRATA_POOL_CONNECTION_TIMEOUT_MS: '3000000000' })).toThrow(
      'STRATA_POOL_CONNECTION_TIMEOUT_MS must be a whole number (milliseconds, from 1 to 2147483647), not 3000000000',
    );
    expect(Object.values(POOL_ENV_VARS)).toEqual([
      'STRATA_POOL_MAX',
      'STRATA_POOL_IDLE_TIMEOUT_MS',
      'STRATA_POOL_CONNECTION_TIMEOUT_MS',
    ]);
  });

  it('the Node server exits 1 with the message before it listens', async () => {
    const server = spawnProcess(process.execPath, ['--import', 'tsx', 'src/node/main.ts'], {
      cwd: packageDir,
      env: { DATABASE_URL: db.url, STRATA_POOL_MAX: 'lots', PORT: '0' },
    });
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain(
      'STRATA_POOL_MAX must be a whole number (connections per process, at least 1), not lots',
    );
    expect(server.output()).not.toContain('listening');
  });
});
