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
import type { ScopesOptions, SyncLimits } from '@strata/edge-server';
import { type ServerDatabaseOptions, startNodeServer } from '@strata/edge-server/node';
import { folder, Note, noteScopes, Todo, todoScopes, todosOf } from '@strata/example-todo';
import {
  type BenchDatabaseChoice,
  type BenchPostgres,
  type PostgresSettings,
  startBenchPostgres,
} from './bench-database.ts';

export interface SyncServerProcessOptions {
  readonly jwtSecret: string;
  readonly corsOrigins: readonly string[];
  /**
   * Scoped sync: each user's todos are the scope `todosOf(userId)` (example-todo), and everyone
   * holds `tenant` too, so one server serves both kinds of client.
   */
  readonly scopes?: boolean;
  /**
   * Serve the `Note` aggregate too (example-todo), decided on the server (so it writes Note
   * snapshots every `SNAPSHOT_EVERY` versions), with its scope `folder(folderId)` (membership
   * `noteScopes`), which any principal may hold; everyone holds `tenant` too. With `scopes`, the
   * two sets of scopes are served side by side.
   */
  readonly notes?: boolean;
  /** `postgres` needs server binaries (see cluster.ts); `auto` uses them when installed. */
  readonly database: BenchDatabaseChoice;
  /** Postgres with fsync and synchronous commits (the default) or without (an extra figure). */
  readonly durable?: boolean;
  /** Limits over the server's defaults, e.g. more subscriptions for a fan-out bench. */
  readonly limits?: Partial<SyncLimits>;
}

/** The server's Postgres, for a bench that also reaches it directly (peers, floors, checks). */
export interface SyncServerPostgres {
  /** TCP URL of the cluster. */
  readonly databaseUrl: string;
  /** `host:port` of the WebSocket proxy the server's Neon driver uses (`useNeonWsProxy`). */
  readonly wsProxy: string;
  readonly settings: PostgresSettings;
}

export type SyncServerProcessMessage =
  | {
      readonly type: 'ready';
      readonly url: string;
      readonly database: string;
      readonly postgres?: SyncServerPostgres;
    }
  | { readonly type: 'failed'; readonly message: string }
  /** The answer to `{ type: 'statements', id }`: statements through the proxy so far. */
  | { readonly type: 'statements'; readonly id: number; readonly count: number };

/** What the parent may send. */
export type SyncServerProcessRequest =
  | { readonly type: 'stop' }
  | { readonly type: 'statements'; readonly id: number };

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

/** The server's `scopes` option: todos' scopes, notes' scope, both, or none. */
function scopesOption(options: SyncServerProcessOptions): { scopes?: ScopesOptions } {
  const todos = options.scopes === true;
  const notes = options.notes === true;
  if (!todos && !notes) return {};
  const scopes: ScopesOptions = {
    definitions: [...(todos ? [todosOf] : []), ...(notes ? [folder] : [])],
    membership: [...(todos ? [todoScopes] : []), ...(notes ? [noteScopes] : [])],
    rules: {
      ...(todos ? { todosOf: (principal, { userId }) => principal.subject === userId } : {}),
      ...(notes ? { folder: () => true } : {}),
      tenant: () => true,
    },
  };
  return { scopes };
}

async function main(options: SyncServerProcessOptions) {
  let database: ServerDatabaseOptions;
  let description: string;
  const postgres = await startBenchPostgres(options.database, { durable: options.durable ?? true });
  benchPostgres = postgres;
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
    aggregates: options.notes === true ? [Todo, Note] : [Todo],
    // The sync benches measure the client against plain fetch of v1 pushes: both store events as
    // pushed. What deciding on the server costs is edge-server's authority.bench.ts. Notes are
    // decided (the default): the server writes snapshots only as it decides commands.
    authority: { Todo: 'events' },
    ...scopesOption(options),
    jwtSecret: options.jwtSecret,
    corsOrigins: options.corsOrigins,
    // Benchmarks push and pull as fast as they can from one principal: that is what they measure.
    rateLimits: false,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
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
  await send({
    type: 'ready',
    url: server.url,
    database: description,
    ...(postgres === undefined
      ? {}
      : {
          postgres: {
            databaseUrl: postgres.databaseUrl,
            wsProxy: postgres.wsProxy,
            settings: postgres.settings,
          },
        }),
  });
}

let benchPostgres: BenchPostgres | undefined;

process.on('message', (message: SyncServerProcessRequest) => {
  if (message.type === 'stop') void stop(0);
  if (message.type === 'statements') {
    void send({ type: 'statements', id: message.id, count: benchPostgres?.statements() ?? 0 });
  }
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
