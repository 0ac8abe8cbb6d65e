/**
 * The database of a Node bench on the server's storage path: a throwaway Postgres cluster
 * (tooling/postgres/cluster.ts: fsync off, in a temp folder) reached through the Neon driver and
 * a local WebSocket proxy, as the pg test tier does; PGlite in process when no Postgres server
 * binaries are installed. `envVar` (e.g. `BENCH_OUTBOX_DATABASE=postgres|pglite`) forces one.
 */
import { PGlite } from '@electric-sql/pglite';
import { Pool } from '@neondatabase/serverless';
import { configureNeonForNode } from '../../packages/edge-server/src/node/server.ts';
import { neonDatabase } from '../../packages/edge-server/src/postgres/neon-database.ts';
import { pgliteDatabase } from '../../packages/edge-server/src/postgres/pglite-database.ts';
import type { SqlDatabase } from '../../packages/edge-server/src/postgres/sql-database.ts';
import { useNeonWsProxy } from '../../packages/edge-server/src/runtimes/env.ts';
import { findPostgresBin, startCluster } from '../postgres/cluster.ts';
import { startWsProxy } from '../postgres/ws-proxy.ts';

export interface BenchDatabase {
  readonly db: SqlDatabase;
  /** e.g. `Postgres 15 via the Neon driver`, for the benchmark names. */
  readonly description: string;
  close(): Promise<void>;
}

/** Opens the bench database; `poolSize` connections for the Neon driver's pool. */
export async function openBenchDatabase(envVar: string, poolSize = 8): Promise<BenchDatabase> {
  const choice = process.env[envVar] ?? 'auto';
  if (!['auto', 'postgres', 'pglite'].includes(choice)) {
    throw new RangeError(`${envVar} must be postgres or pglite, got ${choice}`);
  }
  const bin =
    choice === 'pglite'
      ? undefined
      : await findPostgresBin().catch((error: unknown) => {
          if (choice === 'postgres') throw error;
          return undefined;
        });
  if (bin === undefined) {
    const pglite = await PGlite.create();
    return {
      db: pgliteDatabase(pglite),
      description: 'PGlite in process',
      close: () => pglite.close(),
    };
  }
  process.env.PG_BIN = bin;
  const cluster = await startCluster();
  const proxy = await startWsProxy({ host: '127.0.0.1', port: cluster.port });
  configureNeonForNode();
  useNeonWsProxy(`127.0.0.1:${proxy.port}`);
  const pool = new Pool({ connectionString: cluster.databaseUrl, max: poolSize });
  pool.on('error', () => undefined);
  return {
    db: neonDatabase(pool),
    description: `Postgres ${/postgresql\/([^/]+)\/bin/.exec(bin)?.[1] ?? ''} via the Neon driver`,
    async close() {
      await pool.end();
      await proxy.close();
      await cluster.stop();
    },
  };
}
