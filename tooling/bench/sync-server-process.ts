/**
 * The child process behind `startBenchSyncServer` (sync-server.ts): starts a throwaway Postgres
 * cluster (tooling/postgres/cluster.ts) and the WebSocket proxy the Neon driver connects through
 * (ws-proxy.ts), as the pg test tier does, then the Node edge server on it; reports
 * `{ type: 'ready', url, database }` over IPC; and tears everything down when the parent says
 * `stop` or goes away. Without Postgres server binaries: PGlite, in a temp folder. Not a bench
 * file: run only through `fork`, with argv[2] the JSON of `SyncServerProcessOptions`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServerDatabaseOptions, startNodeServer } from '@strata/edge-server/node';
import { Todo, todoScopes, todosOf } from '@strata/example-todo';
import { type BenchDatabaseChoice, startBenchPostgres } from './bench-database.ts';

export interface SyncServerProcessOptions {
  readonly jwtSecret: string;
  readonly corsOrigins: readonly string[];
  /**
   * Scoped sync: each user's todos are the scope `todosOf(userId)` (example-todo), and everyone
   * holds `tenant` too, so one server serves both kinds of client.
   */
  readonly scopes?: boolean;
  /** `postgres` needs server binaries (see cluster.ts); `auto` uses them when installed. */
  readonly database: BenchDatabaseChoice;
}

export type SyncServerProcessMessage =
  | { readonly type: 'ready'; readonly url: string; readonly database: string }
  | { readonly type: 'failed'; readonly message: string };

const send = (message: SyncServerProcessMessage) =>
  new Promise<void>((resolve) => process.send?.(message, () => resolve()));

const report = console.error.bind(console);
const cleanups: (() => Promise<unknown>)[] = [];
let stopping: Promise<void> | undefined;
function stop(code: number): Promise<void> {
  stopping ??= (async () => {
    // A subscription stream still reading when the pool ends fails with "Cannot use a pool after
    // calling end on the pool", which hono's streamSSE prints with console.error: no news here.
    console.error = () => undefined;
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: unknown) => report('[bench sync server]', error));
    }
    process.exit(code);
  })();
  return stopping;
}

async function main(options: SyncServerProcessOptions) {
  let database: ServerDatabaseOptions;
  let description: string;
  const postgres = await startBenchPostgres(options.database);
  if (postgres !== undefined) {
    cleanups.push(() => postgres.close());
    database = { databaseUrl: postgres.databaseUrl };
    description = postgres.description;
  } else {
    const dataDir = await mkdtemp(join(tmpdir(), 'strata-bench-pglite-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    database = { dataDir };
    description = 'PGlite (WebAssembly Postgres in the server process)';
  }
  const server = await startNodeServer({
    port: 0,
    hostname: '127.0.0.1',
    ...database,
    aggregates: [Todo],
    // The sync benches measure the client against plain fetch of v1 pushes: both store events as
    // pushed. What deciding on the server costs is edge-server's authority.bench.ts.
    authority: { Todo: 'events' },
    ...(options.scopes === true
      ? {
          scopes: {
            definitions: [todosOf],
            membership: [todoScopes],
            rules: {
              todosOf: (principal, { userId }) => principal.subject === userId,
              tenant: () => true,
            },
          },
        }
      : {}),
    jwtSecret: options.jwtSecret,
    corsOrigins: options.corsOrigins,
    // Benchmarks push and pull as fast as they can from one principal: that is what they measure.
    rateLimits: false,
    handleSignals: false,
    shutdownGraceMs: 0,
    // Reads cut short by the shutdown are no news.
    onError: (error: unknown) => {
      if (stopping === undefined) report('[bench sync server] request failed', error);
    },
    log: () => undefined,
    warn: () => undefined,
  });
  cleanups.push(() => server.close());
  await send({ type: 'ready', url: server.url, database: description });
}

process.on('message', (message) => {
  if ((message as { type?: string }).type === 'stop') void stop(0);
});
// The parent went away without saying stop: do not leave a Postgres cluster behind.
process.on('disconnect', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));

main(JSON.parse(process.argv[2] ?? '{}') as SyncServerProcessOptions).catch(
  async (error: unknown) => {
    await send({
      type: 'failed',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    await stop(1);
  },
);
