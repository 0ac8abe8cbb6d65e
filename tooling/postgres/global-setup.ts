import type { TestProject } from 'vitest/node';
import { type Cluster, startCluster } from './cluster.ts';
import type {} from './context.ts';
import { startWsProxy } from './ws-proxy.ts';

/**
 * Global setup of the `pg` tier: a real Postgres server plus a WebSocket proxy
 * for the Neon driver. Uses `STRATA_TEST_DATABASE_URL` when set; otherwise starts
 * a throwaway cluster (see cluster.ts) and removes it at teardown.
 */
export default async function setup(project: TestProject) {
  const fromEnv = process.env.STRATA_TEST_DATABASE_URL;
  const cluster: Cluster | undefined = fromEnv ? undefined : await startCluster();
  const databaseUrl = cluster ? cluster.databaseUrl : String(fromEnv);

  const { hostname, port } = new URL(databaseUrl);
  const proxy = await startWsProxy({ host: hostname, port: Number(port || 5432) }).catch(
    async (error: unknown) => {
      await cluster?.stop();
      throw error;
    },
  );

  project.provide('strataPostgres', {
    databaseUrl,
    wsProxyPort: proxy.port,
    throwaway: cluster !== undefined,
  });

  return async () => {
    await proxy.close();
    await cluster?.stop();
  };
}
