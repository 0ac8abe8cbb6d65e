/**
 * The sync server on Node (`@hono/node-server`). The one place in edge-server's runtime code that
 * imports Node built-ins; the app itself (`createSyncApp`) stays runtime-neutral.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { type HttpBindings, serve } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { neonConfig } from '@neondatabase/serverless';
import { Hono } from 'hono';
import { WebSocket } from 'ws';
import type { SyncApp } from '../app/create-sync-app.ts';
import { describeError } from '../logging/describe-error.ts';
import { migrate } from '../migrations/migrations.ts';
import { authenticationFromEnv } from '../runtimes/authentication-from-env.ts';
import { type EnvRecord, envValue, parsePort } from '../runtimes/env.ts';
import {
  createServerApp,
  DEFAULT_DATA_DIR,
  DEFAULT_PORT,
  defaultHostname,
  localUrl,
  openServerDatabase,
  type ServerAppOptions,
  type ServerDatabase,
  type ServerDatabaseOptions,
  serverOptionsFromEnv,
} from '../runtimes/server-app.ts';
import { isAuthenticated } from '../runtimes/server-settings.ts';
import type { SyncServerDefinition } from '../runtimes/sync-server-definition.ts';
import { withDataDirLock } from './data-dir-lock.ts';
import { keepConnectionUsable } from './drain-request-body.ts';

// The options of openNodeDatabase and migrateNodeDatabase, named for callers of this entry.
export type { ServerDatabaseOptions };

/** Options of `startNodeServer`; each falls back to the environment, then to a default. */
export interface NodeServerOptions extends ServerAppOptions {
  /** Defaults to `PORT`, else 8787. 0 picks a free port (see `NodeServer.port`). */
  readonly port?: number;
  /** Defaults to `HOST`, else 0.0.0.0 with JWT auth and 127.0.0.1 without. */
  readonly hostname?: string;
  /** Where settings are read from. Defaults to `process.env`. */
  readonly env?: EnvRecord;
  /** Shut down gracefully on SIGINT/SIGTERM, then exit. Defaults to true. */
  readonly handleSignals?: boolean;
  /** How long requests in flight may take to finish at shutdown. Defaults to 10 s. */
  readonly shutdownGraceMs?: number;
  /**
   * A folder of static files (e.g. a built web app) to serve besides the API, on the same origin:
   * `GET`/`HEAD` of a file's path answers it with its content type, a folder's path (`/` too) its
   * `index.html`. `/v1/*` and `/healthz` are always the API's; other missing files are 404s.
   * Paths with `..` segments or percent escapes are never served. Relative to the working
   * directory. Must hold an `index.html`.
   */
  readonly staticDir?: string;
}

/** A listening server. */
export interface NodeServer {
  /** e.g. `http://127.0.0.1:8787`: where this machine reaches the server. */
  readonly url: string;
  readonly port: number;
  readonly hostname: string;
  readonly app: SyncApp;
  /** Migration versions applied at startup. */
  readonly migrated: readonly number[];
  /**
   * Graceful stop: no new connections, open subscriptions ended (clients reconnect elsewhere),
   * requests in flight given `shutdownGraceMs`, then the subscription reader and the database
   * closed. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Starts the sync server on Node: PGlite persisted to `.data/strata` (under the working
 * directory) unless `DATABASE_URL` names a Postgres server, reached through the Neon driver over
 * WebSockets (`ws`). Applies missing migrations, authenticates as the app definition says, else
 * from the environment (`authenticationFromEnv`: JWT when `JWT_SECRET` is set, else one tenant,
 * `default`, with a warning), prints its URL and stops gracefully on SIGINT/SIGTERM.
 *
 * Takes the app definition the other entries take (`defineSyncServer`, shared with Bun, Deno
 * and Workers), then this server's options; or all of it as one object.
 *
 * @example
 * import app from './app.ts'; // export default defineSyncServer({ aggregates: [Todo] })
 * const server = await startNodeServer(app, { port: 8787 });
 * console.log(server.url);
 */
export async function startNodeServer(options?: NodeServerOptions): Promise<NodeServer>;
export async function startNodeServer(
  app: SyncServerDefinition,
  options?: NodeServerOptions,
): Promise<NodeServer>;
export async function startNodeServer(
  first: NodeServerOptions = {},
  second: NodeServerOptions = {},
): Promise<NodeServer> {
  // The definition's options, under this server's.
  const options: NodeServerOptions = { ...first, ...second };
  const {
    port: portOption,
    hostname: hostnameOption,
    env = process.env,
    handleSignals = true,
    shutdownGraceMs = 10_000,
    staticDir,
    ...appOptions
  } = options;
  const log = options.log ?? ((line: string) => console.log(line));
  const warn = options.warn ?? ((line: string) => console.warn(line));
  const site = staticDir === undefined ? undefined : resolve(staticDir);
  if (site !== undefined && !isFile(join(site, 'index.html'))) {
    throw new Error(`staticDir ${site} has no index.html (build the app first)`);
  }

  const fromEnv = serverOptionsFromEnv(env);
  const settings: ServerAppOptions = {
    ...fromEnv,
    ...appOptions,
    ...nodeDatabaseSettings(options, fromEnv),
    jwtSecret: options.jwtSecret ?? fromEnv.jwtSecret,
    // As on every entry: the definition's authentication, else the environment's.
    authenticate:
      options.authenticate ??
      authenticationFromEnv(
        options.jwtSecret === undefined ? env : { ...env, JWT_SECRET: options.jwtSecret },
        warn,
      ),
    // The TCP peer, for per-address rate limits (never X-Forwarded-For unless configured).
    clientAddress: options.clientAddress ?? nodeClientAddress,
    log,
  };
  const authenticated = isAuthenticated(
    options,
    options.jwtSecret === undefined ? env : { ...env, JWT_SECRET: options.jwtSecret },
  );
  const port = portOption ?? parsePort(envValue(env, 'PORT'), DEFAULT_PORT);
  const hostname = hostnameOption ?? defaultHostname(env, authenticated);

  // One process per PGlite folder: a second server refuses, naming the holder (issue 12, item 14).
  const serverApp = await withDataDirLock(lockedFolder(settings), () => createServerApp(settings));
  const { app } = serverApp;
  const handle = site === undefined ? app.fetch : withStaticFiles(app, site);

  // Requests in flight are given time to finish at shutdown; Server-Sent Events responses never
  // end on their own, so they are ended then (clients reconnect with Last-Event-ID).
  const inFlight = new Set<ServerResponse>();
  const streams = new Set<ServerResponse>();
  let drained: (() => void) | undefined;
  const fetch = async (request: Request, bindings: HttpBindings) => {
    const { outgoing } = bindings;
    inFlight.add(outgoing);
    outgoing.once('close', () => {
      inFlight.delete(outgoing);
      streams.delete(outgoing);
      if (inFlight.size === 0) drained?.();
    });
    const response = await handle(request, bindings);
    if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
      streams.add(outgoing);
      return response;
    }
    // An unread body (a 413, a 401) must not cost the connection (issue 12, item 10).
    return keepConnectionUsable(request, bindings.incoming, response);
  };

  let server: Server;
  let address: AddressInfo;
  try {
    [server, address] = await listen(fetch, port, hostname);
  } catch (error) {
    await serverApp.close().catch(() => undefined);
    throw error;
  }
  const url = localUrl(hostname, address.port);
  log(`[strata] sync server listening on ${url} (${serverApp.database.description})`);
  if (site !== undefined) log(`[strata] serving the files in ${site}`);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      removeSignalHandlers();
      const closed = new Promise<void>((done) => server.close(() => done()));
      for (const stream of streams) stream.destroy();
      // Then wait for the other requests (at most the grace period), and close every connection:
      // keep-alive ones, and ones that sent no request yet.
      await new Promise<void>((done) => {
        const timer = setTimeout(done, shutdownGraceMs);
        drained = () => {
          clearTimeout(timer);
          done();
        };
        if (inFlight.size === 0) drained();
      });
      server.closeAllConnections();
      await closed;
      await serverApp.close();
      log('[strata] sync server stopped');
    })();
    return closing;
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (closing !== undefined) {
      log(`[strata] ${signal} again: exiting now`);
      process.exit(1);
    }
    log(`[strata] ${signal}: shutting down`);
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`[strata] shutdown failed: ${describeError(error)}`);
        process.exit(1);
      },
    );
  };
  const removeSignalHandlers = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  if (handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  return { url, port: address.port, hostname, app, migrated: serverApp.migrated, close };
}

/**
 * Opens the process's database as the server would: `DATABASE_URL` (Neon driver), else the
 * PGlite folder. For one-off commands (migrate, rebuild); close it when done.
 */
export async function openNodeDatabase(
  options: ServerDatabaseOptions & { readonly env?: EnvRecord } = {},
): Promise<ServerDatabase> {
  const fromEnv = serverOptionsFromEnv(options.env ?? process.env);
  const settings = { ...options, ...nodeDatabaseSettings(options, fromEnv) };
  return withDataDirLock(lockedFolder(settings), () => openServerDatabase(settings));
}

/**
 * Where the database is: the option, else the environment; a PGlite folder made ready. Also
 * configures the Neon driver for Node, which every Node path to the database needs first.
 */
function nodeDatabaseSettings(
  options: ServerDatabaseOptions,
  fromEnv: ServerDatabaseOptions,
): { databaseUrl: string | undefined; dataDir: string | undefined } {
  configureNeonForNode();
  // A given PGlite is served as it is: no folder to create, nothing from the environment.
  if (options.pglite !== undefined) return { databaseUrl: undefined, dataDir: undefined };
  const databaseUrl = options.databaseUrl ?? fromEnv.databaseUrl;
  return { databaseUrl, dataDir: resolveDataDir(options.dataDir ?? fromEnv.dataDir, databaseUrl) };
}

/**
 * Applies missing migrations to `DATABASE_URL`, else to the PGlite folder, and closes the
 * database. Returns the versions applied.
 */
export async function migrateNodeDatabase(
  options: ServerDatabaseOptions & { readonly env?: EnvRecord; log?: (line: string) => void } = {},
): Promise<number[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  const database = await openNodeDatabase(options);
  try {
    const applied = await migrate(database.database);
    log(
      applied.length === 0
        ? `[strata] ${database.description}: schema is up to date`
        : `[strata] ${database.description}: applied migrations ${applied.join(', ')}`,
    );
    return applied;
  } finally {
    await database.close();
  }
}

/**
 * An absolute folder (relative ones are under the working directory), created with its parents
 * when PGlite is to use it (PGlite creates only the last level); `memory://` as it is.
 */
function resolveDataDir(dataDir: string | undefined, databaseUrl: string | undefined): string {
  if (dataDir?.includes('://')) return dataDir;
  const folder = resolve(dataDir ?? DEFAULT_DATA_DIR);
  if (databaseUrl === undefined || databaseUrl === '') mkdirSync(folder, { recursive: true });
  return folder;
}

/** Paths that belong to the sync app even when a file of that name exists. */
const API_ROUTES = ['/healthz', '/readyz', '/metrics', '/openapi.json'];
const API_PREFIXES = ['/v1', '/v2'];
const isApiPath = (path: string) =>
  API_ROUTES.includes(path) ||
  API_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));

/**
 * A path naming a dotfile or a file in a dot-folder (`/.env`, `/.git/config`, the demo's
 * `/.build-inputs.json`): never a file of the site, even if it is in the folder; `/.well-known/`
 * is the exception the web defines.
 */
const isHiddenPath = (path: string) =>
  !path.startsWith('/.well-known/') && path.split('/').some((segment) => segment.startsWith('.'));

/**
 * The sync app with the files of `root` in front of its 404s. Files are revalidated on every
 * load (`no-cache`), so a rebuilt app is picked up by a reload.
 */
function withStaticFiles(
  app: SyncApp,
  root: string,
): (request: Request, bindings: HttpBindings) => Response | Promise<Response> {
  const files = new Hono<{ Bindings: HttpBindings }>();
  files.use('*', async (c, next) =>
    isApiPath(c.req.path) || isHiddenPath(c.req.path) ? app.fetch(c.req.raw, c.env) : next(),
  );
  files.use(
    '*',
    serveStatic({
      root,
      onFound: (_path, c) => {
        c.header('Cache-Control', 'no-cache');
        c.header('X-Content-Type-Options', 'nosniff');
      },
    }),
  );
  // Not a file: the sync app answers (a 404 problem, or a CORS preflight).
  files.all('*', (c) => app.fetch(c.req.raw, c.env));
  return (request, bindings) => files.fetch(request, bindings);
}

/** The PGlite folder these settings open, if any (a Postgres URL needs no lock). */
function lockedFolder(settings: ServerDatabaseOptions): string | undefined {
  if (settings.pglite !== undefined) return undefined;
  return settings.databaseUrl === undefined || settings.databaseUrl === ''
    ? settings.dataDir
    : undefined;
}

/** The socket's remote address, from @hono/node-server's bindings (`c.env`). */
function nodeClientAddress(_request: Request, env: unknown): string | undefined {
  return (env as Partial<HttpBindings> | undefined)?.incoming?.socket.remoteAddress;
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

/**
 * The Neon driver on Node: Node 20 has no global WebSocket, so it gets `ws` (unless one was
 * configured); and writes go out at once. The driver's default coalesces each query's writes
 * behind a `setTimeout(0)`, which on Node costs a millisecond or more per query: pushes of
 * one-event commits ran 3.5x faster without it (`pnpm bench push`).
 */
export function configureNeonForNode(): void {
  neonConfig.webSocketConstructor ??= WebSocket;
  neonConfig.coalesceWrites = false;
}

function listen(
  fetch: (request: Request, bindings: HttpBindings) => Promise<Response>,
  port: number,
  hostname: string,
): Promise<[Server, AddressInfo]> {
  return new Promise((resolveListen, reject) => {
    const server = serve(
      { fetch: (request, bindings) => fetch(request, bindings as HttpBindings), port, hostname },
      (info) => resolveListen([server as Server, info]),
    );
    server.once('error', reject);
  });
}
