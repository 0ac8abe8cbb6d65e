/**
 * Helpers for `*.pg.test.ts` files: the Neon driver (`Pool`/`Client`) wired to
 * the tier's Postgres through the local WebSocket proxy.
 *
 * Isolation: call `createTestDatabase()` once per file (in `beforeAll`) to get a
 * fresh database (a template copy takes a few ms); drop it in `afterAll`.
 */
import {
  Client,
  type ClientConfig,
  neonConfig,
  Pool,
  type PoolConfig,
} from '@neondatabase/serverless';
import { inject } from 'vitest';
import { WebSocket } from 'ws';
import type { TestPostgres } from './context.ts';

export { Client, Pool };

/** Connection info from the tier's global setup. */
export function testPostgres(): TestPostgres {
  return inject('strataPostgres');
}

/** Points the Neon driver at the local WebSocket proxy (idempotent). */
export function configureNeon(info: TestPostgres = testPostgres()): void {
  neonConfig.webSocketConstructor = WebSocket;
  neonConfig.coalesceWrites = false; // as the Node server sets it (configureNeonForNode)
  neonConfig.wsProxy = (host, port) => `127.0.0.1:${info.wsProxyPort}/v1?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
}

/** A Neon `Pool` on `connectionString` (default: the server's admin database). */
export function createPool(config: PoolConfig = {}): Pool {
  configureNeon();
  const pool = new Pool({ connectionString: testPostgres().databaseUrl, ...config });
  // Dropping a test database terminates sessions a closing pool may still hold: not a failure.
  pool.on('error', () => undefined);
  return pool;
}

/** A Neon `Client` (not yet connected) on the server's admin database by default. */
export function createClient(config: ClientConfig = {}): Client {
  configureNeon();
  return new Client({ connectionString: testPostgres().databaseUrl, ...config });
}

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  createPool(config?: PoolConfig): Pool;
  createClient(config?: ClientConfig): Client;
  /** Drops the database, ending any session still connected to it. */
  drop(): Promise<void>;
}

/** Creates a fresh, empty database on the tier's server. */
export async function createTestDatabase(prefix = 'strata_test'): Promise<TestDatabase> {
  const name = `${prefix}_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`;
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name: ${name}`);
  const admin = createPool({ max: 1 });
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(testPostgres().databaseUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    createPool: (config = {}) => createPool({ connectionString: url.toString(), ...config }),
    createClient: (config = {}) => createClient({ connectionString: url.toString(), ...config }),
    async drop() {
      const pool = createPool({ max: 1 });
      try {
        await pool.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await pool.end();
      }
    },
  };
}
