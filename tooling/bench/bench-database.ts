/**
 * The database of a Node bench on the server's storage path: a throwaway Postgres cluster
 * (tooling/postgres/cluster.ts: durable, fsync on, in a temp folder) reached through the Neon driver and
 * a local WebSocket proxy, as the pg test tier does; PGlite in process when no Postgres server
 * binaries are installed. `envVar` (e.g. `BENCH_OUTBOX_DATABASE=postgres|pglite`) forces one.
 */
import { PGlite } from '@electric-sql/pglite';
import { Pool } from '@neondatabase/serverless';
import {
  neonDatabase,
  pgliteDatabase,
  type SqlDatabase,
  useNeonWsProxy,
} from '@strata/edge-server';
import { configureNeonForNode } from '@strata/edge-server/node';
import { findPostgresBin, startCluster } from '../postgres/cluster.ts';
import { startWsProxy } from '../postgres/ws-proxy.ts';

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
  readonly databaseUrl: string;
  /** e.g. `Postgres 15 via the Neon driver`. */
  readonly description: string;
  close(): Promise<void>;
}

/**
 * Starts a throwaway cluster and its WebSocket proxy, pointing the Neon driver at it; undefined
 * when PGlite was chosen, or with `auto` when no Postgres server binaries are installed.
 */
export async function startBenchPostgres(
  choice: BenchDatabaseChoice,
): Promise<BenchPostgres | undefined> {
  if (choice === 'pglite') return undefined;
  const bin = await findPostgresBin().catch((error: unknown) => {
    if (choice === 'postgres') throw error;
    return undefined;
  });
  if (bin === undefined) return undefined;
  process.env.PG_BIN = bin;
  // Durable, as production: commit cost and lock waits are part of what a bench measures.
  const cluster = await startCluster({ durable: true });
  const proxy = await startWsProxy({ host: '127.0.0.1', port: cluster.port });
  configureNeonForNode();
  useNeonWsProxy(`127.0.0.1:${proxy.port}`);
  return {
    databaseUrl: cluster.databaseUrl,
    description: `Postgres ${/postgresql\/([^/]+)\/bin/.exec(bin)?.[1] ?? ''} via the Neon driver`,
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
