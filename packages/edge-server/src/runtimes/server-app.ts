/**
 * The sync app as a long-running server builds it (Node, Bun, Deno): one database handle for the
 * process, migrations at startup, LISTEN/NOTIFY for subscriptions. Runtime-neutral: each entry
 * point adds only its own `serve` call and signal handling. (Workers are different: see worker.ts.)
 */
import type { PGlite } from '@electric-sql/pglite';
import { Client } from '@neondatabase/serverless';
import type { Authenticate } from '../app/auth.ts';
import { createSyncApp, type SyncApp, type SyncAppOptions } from '../app/create-sync-app.ts';
import { safeErrorReporter } from '../logging/describe-error.ts';
import { migrate } from '../migrations/migrations.ts';
import {
  createNeonPool,
  NEON_POOL_DEFAULTS,
  neonDatabase,
  type PoolSettings,
} from '../postgres/neon-database.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import { indexScopes } from '../scopes/index-scopes.ts';
import { type ListenSource, neonListen, pgliteListen } from '../subscriptions/listen-source.ts';
import {
  authenticationFor,
  type EnvRecord,
  envValue,
  parseFlag,
  parseList,
  requestPolicyFromEnv,
  useNeonWsProxy,
} from './env.ts';
import { poolFromEnv } from './pool-env.ts';

/** Where PGlite keeps its files when neither `dataDir` nor `STRATA_DATA_DIR` says otherwise. */
export const DEFAULT_DATA_DIR = '.data/strata';

/** Options of `openServerDatabase`. */
export interface ServerDatabaseOptions {
  /** A Postgres URL, used through the Neon driver. When absent: PGlite in `dataDir`. */
  readonly databaseUrl?: string | undefined;
  /** PGlite's folder (created if missing; `memory://` keeps nothing). Defaults to `.data/strata`. */
  readonly dataDir?: string | undefined;
  /**
   * An open PGlite to serve instead (one with extensions, or loaded from a dump): it wins over
   * `databaseUrl` and `dataDir`, and stays yours to close (closing the server leaves it open).
   */
  readonly pglite?: PGlite | undefined;
  /**
   * The Postgres pool of `databaseUrl` (`STRATA_POOL_MAX`, `STRATA_POOL_IDLE_TIMEOUT_MS`,
   * `STRATA_POOL_CONNECTION_TIMEOUT_MS`): settings not given keep `NEON_POOL_DEFAULTS`. A bad
   * value fails `openServerDatabase` with a `RangeError`. See docs/production.md.
   */
  readonly pool?: PoolSettings | undefined;
  /**
   * Where the LISTEN connection goes (`STRATA_LISTEN_URL`); defaults to `databaseUrl`. LISTEN
   * needs a session of its own: with `databaseUrl` on a transaction-mode pooler (Neon's `-pooler`
   * host, PgBouncer), give the direct URL here. See docs/production.md.
   */
  readonly listenUrl?: string | undefined;
  /**
   * Where connection errors outside a request are reported (an idle pooled connection or the
   * LISTEN connection dropped). Defaults to one scrubbed line on console.error (`describeError`):
   * these errors carry the client config, connection string included, so never log the object.
   */
  readonly onError?: (error: unknown) => void;
}

/** An open database with what the app needs from it. */
export interface ServerDatabase {
  readonly database: SqlDatabase;
  readonly listen: ListenSource;
  /** e.g. `Postgres postgres://app:***@db.example/app (Neon driver)` or `PGlite in .data/strata`. */
  readonly description: string;
  close(): Promise<void>;
}

/**
 * Opens the process's database: a Neon driver `Pool` on `databaseUrl`, else PGlite persisted to
 * `dataDir`. In Node 21 and older, set `neonConfig.webSocketConstructor` first (see node/server.ts).
 */
export async function openServerDatabase(options: ServerDatabaseOptions): Promise<ServerDatabase> {
  const report = options.onError ?? safeErrorReporter('[strata] database error');
  if (options.pglite !== undefined) {
    const { pglite } = options;
    return {
      database: pgliteDatabase(pglite),
      listen: pgliteListen(pglite),
      description: 'PGlite (given by the caller)',
      close: async () => undefined,
    };
  }
  if (options.databaseUrl !== undefined && options.databaseUrl !== '') {
    const connectionString = options.databaseUrl;
    // NEON_POOL_DEFAULTS: connections time out after 5 s, so requests answer 503 while the
    // database is down instead of hanging. An idle pooled connection that dies must not take the
    // process down: the pool replaces it and `report` hears of it.
    const pool = createNeonPool({ ...options.pool, connectionString }, report);
    return {
      database: neonDatabase(pool),
      listen: neonListen(
        () =>
          new Client({
            connectionString: options.listenUrl ?? connectionString,
            connectionTimeoutMillis:
              options.pool?.connectionTimeoutMillis ?? NEON_POOL_DEFAULTS.connectionTimeoutMillis,
          }),
        report,
      ),
      description: `Postgres ${redactUrl(connectionString)} (Neon driver)`,
      close: () => pool.end(),
    };
  }
  const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
  // Loaded only when used, so a server on DATABASE_URL never loads the WebAssembly Postgres.
  const { PGlite } = await import('@electric-sql/pglite');
  const pglite: PGlite = await PGlite.create(dataDir);
  return {
    database: pgliteDatabase(pglite),
    listen: pgliteListen(pglite),
    description: `PGlite in ${dataDir}`,
    close: () => pglite.close(),
  };
}

/**
 * Options of `createServerApp`: the database, who may call, and the app's own options (all of
 * `createSyncApp`'s but the database, authentication and LISTEN source, which come from here).
 */
export interface ServerAppOptions
  extends ServerDatabaseOptions,
    Omit<SyncAppOptions, 'database' | 'authenticate' | 'listen'> {
  /** HS256 secret of the bearer tokens. When absent (and no `authenticate`): one tenant, `default`. */
  readonly jwtSecret?: string | undefined;
  /** Replaces the JWT/single-tenant choice. */
  readonly authenticate?: Authenticate;
  /**
   * Work to run beside the API on the server's database: outbox relays, projection runners,
   * consumer groups (anything with `start` and `stop`). Started after the migrations, stopped
   * (and awaited) before the database closes. Defaults to none.
   *
   * @example
   * background: ({ database, listen }) => [
   *   createOutboxRelay({ database, sinks: reactors.sinks }),
   *   createProjectionRunner({ database, projections: [todoList], listen }),
   * ],
   */
  readonly background?: (context: BackgroundContext) => readonly BackgroundTask[];
  /** Apply missing migrations at startup. Defaults to true. */
  readonly migrate?: boolean;
  /**
   * Startup lines (URL, database, migrations) and, unless `requestLog` says otherwise, one JSON
   * line per request. Defaults to console.log.
   */
  readonly log?: (line: string) => void;
  /** Warnings (e.g. no JWT_SECRET). Defaults to console.warn. */
  readonly warn?: (line: string) => void;
}

/** What background tasks get: the server's database and its LISTEN/NOTIFY source. */
export interface BackgroundContext {
  readonly database: SqlDatabase;
  readonly listen: ListenSource;
}

/** A background loop of the server (`createOutboxRelay`, `createProjectionRunner`, `createConsumerGroup`). */
export interface BackgroundTask {
  start(): unknown;
  stop(): Promise<void>;
}

/** A ready app and the database under it. */
export interface ServerApp {
  readonly app: SyncApp;
  readonly database: ServerDatabase;
  /** Migration versions applied at startup (empty when up to date or `migrate: false`). */
  readonly migrated: readonly number[];
  /** Stops the background tasks and the subscription reader, then closes the database. */
  close(): Promise<void>;
}

/** Opens the database, migrates it (unless told not to) and builds the sync app on it. */
export async function createServerApp(options: ServerAppOptions): Promise<ServerApp> {
  const {
    databaseUrl: _databaseUrl,
    dataDir: _dataDir,
    pglite: _pglite,
    pool: _pool,
    listenUrl: _listenUrl,
    jwtSecret,
    authenticate: customAuthenticate,
    migrate: migrateAtStart = true,
    log = (line: string) => console.log(line),
    warn = (line: string) => console.warn(line),
    background,
    ...appOptions
  } = options;
  const authenticate = customAuthenticate ?? authenticationFor(jwtSecret, warn);
  const database = await openServerDatabase(options);
  let migrated: number[] = [];
  try {
    if (migrateAtStart) {
      migrated = await migrate(database.database);
      log(
        migrated.length === 0
          ? '[strata] schema is up to date'
          : `[strata] applied migrations ${migrated.join(', ')}`,
      );
      // Aggregates stored before their type declared a membership: into their scopes, before
      // any device asks for them.
      if (appOptions.scopes !== undefined) {
        const indexed = await indexScopes(database.database, appOptions.scopes.membership);
        if (indexed.aggregates > 0) {
          log(`[strata] placed ${indexed.aggregates} stored aggregates in their scopes`);
        }
      }
    }
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
  const app = createSyncApp({
    // A server logs one JSON line per request, on its log (`requestLog: false` for none).
    requestLog: (line) => log(JSON.stringify(line)),
    ...appOptions,
    database: database.database,
    authenticate,
    listen: database.listen,
  });
  const tasks = background?.({ database: database.database, listen: database.listen }) ?? [];
  try {
    for (const task of tasks) await task.start();
  } catch (error) {
    await Promise.allSettled(tasks.map((task) => task.stop()));
    await app.close();
    await database.close().catch(() => undefined);
    throw error;
  }
  return {
    app,
    database,
    migrated,
    async close() {
      try {
        await Promise.allSettled(tasks.map((task) => task.stop()));
        await app.close();
      } finally {
        await database.close();
      }
    },
  };
}

/**
 * The server settings that come from the environment:
 * `DATABASE_URL`, `STRATA_DATA_DIR`, `JWT_SECRET`, `CORS_ORIGINS`, `STRATA_MIGRATE`,
 * `STRATA_ALLOWED_HOSTS`, `STRATA_RATE_LIMIT_PER_PRINCIPAL`, `STRATA_RATE_LIMIT_PER_ADDRESS`,
 * `STRATA_METRICS_TOKEN` (turns on `GET /metrics`), `STRATA_POOL_*` (pool-env.ts),
 * `STRATA_LISTEN_URL`, and `NEON_WS_PROXY` (applied to the Neon driver here, as a side effect).
 */
export function serverOptionsFromEnv(env: EnvRecord): ServerAppOptions {
  const proxy = envValue(env, 'NEON_WS_PROXY');
  if (proxy !== undefined) useNeonWsProxy(proxy);
  const corsOrigins = parseList(envValue(env, 'CORS_ORIGINS'));
  const metricsToken = envValue(env, 'STRATA_METRICS_TOKEN');
  return {
    databaseUrl: envValue(env, 'DATABASE_URL'),
    listenUrl: envValue(env, 'STRATA_LISTEN_URL'),
    dataDir: envValue(env, 'STRATA_DATA_DIR'),
    jwtSecret: envValue(env, 'JWT_SECRET'),
    migrate: parseFlag(envValue(env, 'STRATA_MIGRATE'), true),
    ...(corsOrigins.length === 0 ? {} : { corsOrigins }),
    ...requestPolicyFromEnv(env),
    ...poolFromEnv(env),
    ...(metricsToken === undefined ? {} : { metrics: { token: metricsToken } }),
  };
}

/**
 * The interface a server listens on: `HOST` when set; otherwise all interfaces when requests are
 * authenticated, and only this machine when they are not (no `JWT_SECRET`).
 */
export function defaultHostname(env: EnvRecord, authenticated: boolean): string {
  return envValue(env, 'HOST') ?? (authenticated ? '0.0.0.0' : '127.0.0.1');
}

/** The port servers listen on when neither an option nor `PORT` says otherwise. */
export const DEFAULT_PORT = 8787;

/** Where this machine reaches a server listening on `hostname` (all interfaces: 127.0.0.1). */
export function localUrl(hostname: string, port: number): string {
  const host =
    hostname === '0.0.0.0' || hostname === '::' || hostname === '' ? '127.0.0.1' : hostname;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** A fetch handler whose Server-Sent Events responses can all be ended at once (at shutdown). */
export interface EndableStreams {
  fetch(request: Request): Promise<Response>;
  /** Ends every open event stream: subscribers see the end and reconnect (with Last-Event-ID). */
  endAll(): void;
}

/** Wraps `fetch` so that the event streams it returns can be ended from the server's side. */
export function endableStreams(
  fetch: (request: Request) => Response | Promise<Response>,
): EndableStreams {
  const open = new Set<() => void>();
  return {
    async fetch(request) {
      const response = await fetch(request);
      const body = response.body;
      if (body === null || !response.headers.get('content-type')?.startsWith('text/event-stream')) {
        return response;
      }
      const reader = body.getReader();
      let ended = false;
      let end: () => void = () => undefined;
      const endable = new ReadableStream<Uint8Array>({
        start(controller) {
          end = () => {
            if (ended) return;
            ended = true;
            open.delete(end);
            controller.close();
            reader.cancel().catch(() => undefined);
          };
          open.add(end);
        },
        async pull(controller) {
          const { done, value } = await reader.read();
          if (ended) return;
          if (done) end();
          else controller.enqueue(value);
        },
        cancel(reason) {
          ended = true;
          open.delete(end);
          return reader.cancel(reason);
        },
      });
      return new Response(endable, response);
    },
    endAll() {
      for (const end of [...open]) end();
    },
  };
}

/**
 * Graceful stop for Bun and Deno: ends open subscriptions, lets `stop` stop accepting and wait for
 * requests in flight (at most `graceMs`, then `force`), then closes the app and the database.
 */
export async function shutDown(options: {
  readonly server: ServerApp;
  readonly streams: EndableStreams;
  readonly stop: () => Promise<void>;
  readonly force?: () => Promise<void>;
  readonly graceMs?: number;
}): Promise<void> {
  options.streams.endAll();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const graceful = await Promise.race([
    options.stop().then(() => true),
    new Promise<boolean>((done) => {
      timer = setTimeout(() => done(false), options.graceMs ?? 10_000);
    }),
  ]);
  clearTimeout(timer);
  if (!graceful) await options.force?.();
  await options.server.close();
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparsable database URL)';
  }
}
