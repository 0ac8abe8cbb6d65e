/**
 * The database of a Node bench on the server's storage path: a throwaway Postgres cluster
 * (tooling/postgres/cluster.ts: durable, fsync on, in a temp folder) reached through the Neon driver and
 * a local WebSocket proxy, as the pg test tier does; PGlite in process when no Postgres server
 * binaries are installed. `envVar` (e.g. `BENCH_OUTBOX_DATABASE=postgres|pglite`) forces one.
 */
import { PGlite } from '@electric-sql/pglite';
import { Client, Pool } from '@neondatabase/serverless';
import {
  neonDatabase,
  pgliteDatabase,
  type SqlDatabase,
  useNeonWsProxy,
} from '@strata/edge-server';
import { configureNeonForNode } from '@strata/edge-server/node';
import { findPostgresBin, startCluster } from '../postgres/cluster.ts';
import { startCountingWsProxy } from './counting-ws-proxy.ts';
import { describeSettings, noteEnvironment, type PostgresSettings } from './environment.ts';

export type { PostgresSettings } from './environment.ts';

export interface BenchDatabase {
  readonly db: SqlDatabase;
  /** e.g. `Postgres 15 via the Neon driver`, for the benchmark names. */
  readonly description: string;
  close(): Promise<void>;
}

/** Where a bench's database comes from: `auto` is Postgres when its binaries are installed. */
export type BenchDatabaseChoice = 'postgres' | 'pglite' | 'auto';

/** A throwaway Postgres cluster behind the local WebSocket proxy, for the Neon driver. */
export interface BenchPostgres {
  /** The cluster's TCP URL (what `pg` and peers such as Emmett connect to). */
  readonly databaseUrl: string;
  /** The WebSocket proxy's `host:port`, for `useNeonWsProxy` in another process. */
  readonly wsProxy: string;
  /** e.g. `Postgres 15 via the Neon driver`. */
  readonly description: string;
  /** What the server says it runs: `server_version` and the durability settings, as `pg_settings` has them. */
  readonly settings: PostgresSettings;
  /** SQL statements sent through the WebSocket proxy so far (counting-ws-proxy.ts). */
  statements(): number;
  close(): Promise<void>;
}

const SETTINGS = [
  'server_version',
  'fsync',
  'synchronous_commit',
  'full_page_writes',
  'wal_sync_method',
] as const;

/** Asks the server (through the Neon driver) for its version and durability settings. */
async function readSettings(databaseUrl: string): Promise<PostgresSettings> {
  const client = new Client(databaseUrl);
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; setting: string }>(
      'SELECT name, setting FROM pg_settings WHERE name = ANY($1)',
      [SETTINGS],
    );
    const byName = new Map(rows.map((row) => [row.name, row.setting]));
    return Object.fromEntries(
      SETTINGS.map((name) => [name, byName.get(name) ?? '?']),
    ) as unknown as PostgresSettings;
  } finally {
    await client.end();
  }
}

/**
 * Starts a throwaway cluster and its WebSocket proxy, pointing the Neon driver at it; undefined
 * when PGlite was chosen, or with `auto` when no Postgres server binaries are installed.
 */
export async function startBenchPostgres(
  choice: BenchDatabaseChoice,
  options: { readonly durable?: boolean } = {},
): Promise<BenchPostgres | undefined> {
  if (choice === 'pglite') return undefined;
  const bin = await findPostgresBin().catch((error: unknown) => {
    if (choice === 'postgres') throw error;
    return undefined;
  });
  if (bin === undefined) return undefined;
  process.env.PG_BIN = bin;
  // Durable, as production: commit cost and lock waits are part of what a bench measures. Not
  // durable only when asked, for an extra figure labelled as such.
  const cluster = await startCluster({ durable: options.durable ?? true });
  const proxy = await startCountingWsProxy({ host: '127.0.0.1', port: cluster.port });
  configureNeonForNode();
  useNeonWsProxy(`127.0.0.1:${proxy.port}`);
  const settings = await readSettings(cluster.databaseUrl).catch(async (error: unknown) => {
    await proxy.close();
    await cluster.stop();
    throw error;
  });
  noteEnvironment('Postgres', describeSettings(settings));
  return {
    databaseUrl: cluster.databaseUrl,
    wsProxy: `127.0.0.1:${proxy.port}`,
    description: `Postgres ${/postgresql\/([^/]+)\/bin/.exec(bin)?.[1] ?? ''} via the Neon driver`,
    settings,
    statements: () => proxy.statements(),
    async close() {
      await proxy.close();
      await cluster.stop();
    },
  };
}

/** Opens the bench database (`envVar` may force one); `poolSize` connections for the Neon driver's pool. */
export async function openBenchDatabase(envVar: string, poolSize = 8): Promise<BenchDatabase> {
  const choice = process.env[envVar] ?? 'auto';
  if (choice !== 'auto' && choice !== 'postgres' && choice !== 'pglite') {
    throw new RangeError(`${envVar} must be postgres or pglite, got ${choice}`);
  }
  const postgres = await startBenchPostgres(choice);
  if (postgres === undefined) {
    const pglite = await PGlite.create();
    return {
      db: pgliteDatabase(pglite),
      description: 'PGlite in process',
      close: () => pglite.close(),
    };
  }
  const pool = new Pool({ connectionString: postgres.databaseUrl, max: poolSize });
  pool.on('error', () => undefined);
  return {
    db: neonDatabase(pool),
    description: postgres.description,
    async close() {
      await pool.end();
      await postgres.close();
    },
  };
}
