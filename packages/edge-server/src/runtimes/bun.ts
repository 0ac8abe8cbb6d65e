/**
 * The sync server on Bun.
 *
 * As a script (in packages/edge-server): `STRATA_APP=./app.ts bun src/runtimes/bun.ts`, where
 * `app.ts` default-exports `defineSyncServer({ ... })` (without STRATA_APP: the generic app, no
 * aggregates, any well-formed event stored as pushed). From an app's own entry:
 * `await serveOnBun(app)`.
 *
 * Settings come from the environment, as for Node: DATABASE_URL (else PGlite in STRATA_DATA_DIR,
 * default .data/strata), JWT_SECRET, PORT, HOST, CORS_ORIGINS, STRATA_MIGRATE, NEON_WS_PROXY.
 * Bun has a global WebSocket, so the Neon driver needs no `ws`.
 */

import { describeError } from '../logging/describe-error.ts';
import { type EnvRecord, envValue, parsePort } from './env.ts';
import {
  createServerApp,
  DEFAULT_PORT,
  defaultHostname,
  endableStreams,
  localUrl,
  shutDown,
} from './server-app.ts';
import {
  isAuthenticated,
  loadAppDefinition,
  type RunningServer,
  serverSettingsFor,
} from './server-settings.ts';
import { stopOnSignals } from './stop-on-signals.ts';
import { defineSyncServer, type SyncServerDefinition } from './sync-server-definition.ts';

export type { RunningServer };

/** The part of Bun's API used here (no @types/bun needed). */
declare const Bun: {
  readonly env: Record<string, string | undefined>;
  serve(options: {
    port: number;
    hostname: string;
    /** Seconds a connection may stay silent; must exceed the subscription heartbeat (15 s). */
    idleTimeout: number;
    fetch(request: Request, server: BunServer): Promise<Response>;
  }): { readonly port: number; stop(closeActiveConnections?: boolean): Promise<void> };
};
/** Bun's server as its `fetch` handler gets it: `requestIP` is the TCP peer. */
type BunServer = {
  requestIP(request: Request): { readonly address: string } | null;
};
const { process } = globalThis as unknown as {
  process: {
    on(signal: string, listener: () => void): void;
    exit(code: number): never;
    cwd(): string;
  };
};

/** Options of `serveOnBun`: where settings come from and how the process is run. */
export interface BunServeOptions {
  /** Defaults to `Bun.env`. */
  readonly env?: EnvRecord;
  /** Shut down gracefully on SIGINT/SIGTERM, then exit. Defaults to true. */
  readonly handleSignals?: boolean;
}

/**
 * Serves the app on Bun: the database, port and authentication from the environment (unless the
 * definition has `authenticate`), migrations at startup, graceful stop on SIGINT/SIGTERM.
 *
 * @example
 * import app from './app.ts';
 * await serveOnBun(app);
 */
export async function serveOnBun(
  app: SyncServerDefinition = defineSyncServer({}),
  options: BunServeOptions = {},
): Promise<RunningServer> {
  const env = options.env ?? Bun.env;
  const warn = (line: string) => console.warn(line);
  const hostname = defaultHostname(env, isAuthenticated(app, env));
  // The TCP peer of each request, for per-address rate limits (X-Forwarded-For is not trusted).
  const peers = new WeakMap<Request, string>();
  const server = await createServerApp({
    ...serverSettingsFor(app, env, warn),
    clientAddress: (request) => peers.get(request),
  });
  const streams = endableStreams((request) => server.app.fetch(request));
  const bun = Bun.serve({
    port: parsePort(envValue(env, 'PORT'), DEFAULT_PORT),
    hostname,
    idleTimeout: 60,
    fetch: (request, bunServer) => {
      const peer = bunServer.requestIP(request)?.address;
      if (peer !== undefined) peers.set(request, peer);
      return streams.fetch(request);
    },
  });
  const url = localUrl(hostname, bun.port);
  console.log(`[strata] sync server (Bun) listening on ${url} (${server.database.description})`);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= shutDown({
      server,
      streams,
      stop: () => bun.stop(),
      force: () => bun.stop(true),
    });
    return closing;
  };
  if (options.handleSignals ?? true) {
    stopOnSignals(close, {
      onSignal: (signal, listener) => process.on(signal, listener),
      exit: (code) => process.exit(code),
    });
  }
  return { url, server, close };
}

// Run as a script (`bun src/runtimes/bun.ts`): the app of STRATA_APP, else the generic one.
if ((import.meta as { main?: boolean }).main === true) {
  try {
    const app = await loadAppDefinition(undefined, Bun.env, process.cwd(), (line) =>
      console.warn(line),
    );
    await serveOnBun(app);
  } catch (error) {
    console.error(`[strata] failed: ${describeError(error)}`);
    process.exit(1);
  }
}
