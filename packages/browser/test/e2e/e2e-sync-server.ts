/**
 * The edge server the Chromium e2e tests sync with: Node, on a fresh Postgres database (the
 * chromium-e2e tier's throwaway cluster, through the Neon driver), letting the test pages'
 * origins call it, quiet, and stopped with the test's other cleanups. Test code only.
 */
import { type NodeServerOptions, startNodeServer } from '@strata/edge-server/node';
import { createTestDatabase, testPostgres } from '@strata/tooling/postgres/neon';
import { fetchAt, type SyncClient, syncClient } from '@strata/tooling/sync/sync-client';

export interface E2eSyncServer {
  readonly url: string;
  /** Every event on the server, in global order (read from Node, not through a page). */
  events(): ReturnType<SyncClient['pullAll']>;
  /** A client of the server from Node (another device), as `clientId`. */
  client(clientId: string): SyncClient;
}

/**
 * Starts one; `cleanups` gets its stop and its database's drop (run them in reverse order).
 * `server` adds or overrides the Node server's options (aggregates, scopes, authority).
 *
 * @example
 * const server = await startE2eSyncServer({ name: 'strata_e2e', origins: [app.origin], cleanups, server: { aggregates: [Todo] } });
 */
export async function startE2eSyncServer(options: {
  readonly name: string;
  readonly origins: readonly string[];
  readonly cleanups: (() => Promise<void>)[];
  readonly server?: Partial<NodeServerOptions>;
}): Promise<E2eSyncServer> {
  const database = await createTestDatabase(options.name);
  options.cleanups.push(() => database.drop());
  const server = await startNodeServer({
    port: 0,
    hostname: '127.0.0.1',
    databaseUrl: database.url,
    env: { NEON_WS_PROXY: `127.0.0.1:${testPostgres().wsProxyPort}` },
    corsOrigins: [...options.origins],
    handleSignals: false,
    shutdownGraceMs: 0,
    log: () => undefined,
    warn: () => undefined,
    ...options.server,
  });
  options.cleanups.push(() => server.close());
  return {
    url: server.url,
    events: () => syncClient(fetchAt(server.url)).pullAll(),
    client: (clientId) => syncClient(fetchAt(server.url), { clientId }),
  };
}
