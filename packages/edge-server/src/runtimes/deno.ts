/**
 * The sync server on Deno.
 *
 * As a script (in packages/edge-server):
 * `STRATA_APP=./app.ts deno run --allow-net --allow-env --allow-read src/runtimes/deno.ts`, where
 * `app.ts` default-exports `defineSyncServer({ ... })` (without STRATA_APP: the generic app, no
 * aggregates, any well-formed event stored as pushed). `--allow-read` for the app module and
 * PGlite's folder (PGlite also needs `--allow-write`); with DATABASE_URL and no STRATA_APP, net
 * and env are enough. From an app's own entry: `await serveOnDeno(app)`.
 *
 * Settings come from the environment, as for Node: DATABASE_URL (else PGlite in STRATA_DATA_DIR,
 * default .data/strata), JWT_SECRET, PORT, HOST, CORS_ORIGINS, STRATA_MIGRATE, NEON_WS_PROXY.
 * Deno has a global WebSocket, so the Neon driver needs no `ws`. Packages resolve from
 * node_modules (pnpm install first).
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

/** The part of Deno's API used here. */
declare const Deno: {
  readonly env: { toObject(): Record<string, string> };
  serve(
    options: {
      port: number;
      hostname: string;
      onListen(address: { hostname: string; port: number }): void;
    },
    handler: (
      request: Request,
      info: { readonly remoteAddr: { readonly hostname?: string } },
    ) => Promise<Response>,
  ): { shutdown(): Promise<void> };
  addSignalListener(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
  cwd(): string;
  exit(code: number): never;
};

/** Options of `serveOnDeno`: where settings come from and how the process is run. */
export interface DenoServeOptions {
  /** Defaults to `Deno.env.toObject()`. */
  readonly env?: EnvRecord;
  /** Shut down gracefully on SIGINT/SIGTERM, then exit. Defaults to true. */
  readonly handleSignals?: boolean;
}

/**
 * Serves the app on Deno: the database, port and authentication from the environment (unless the
 * definition has `authenticate`), migrations at startup, graceful stop on SIGINT/SIGTERM.
 *
 * @example
 * import app from './app.ts';
 * await serveOnDeno(app);
 */
export async function serveOnDeno(
  app: SyncServerDefinition = defineSyncServer({}),
  options: DenoServeOptions = {},
): Promise<RunningServer> {
  const env = options.env ?? Deno.env.toObject();
  const warn = (line: string) => console.warn(line);
  const hostname = defaultHostname(env, isAuthenticated(app, env));
  // The TCP peer of each request, for per-address rate limits (X-Forwarded-For is not trusted).
  const peers = new WeakMap<Request, string>();
  const server = await createServerApp({
    ...serverSettingsFor(app, env, warn),
    clientAddress: (request) => peers.get(request),
  });
  const streams = endableStreams((request) => server.app.fetch(request));
  let listening: (port: number) => void = () => undefined;
  const port = new Promise<number>((resolve) => {
    listening = resolve;
  });
  const deno = Deno.serve(
    {
      port: parsePort(envValue(env, 'PORT'), DEFAULT_PORT),
      hostname,
      onListen: (address) => listening(address.port),
    },
    (request, info) => {
      const peer = info.remoteAddr.hostname;
      if (peer !== undefined) peers.set(request, peer);
      return streams.fetch(request);
    },
  );
  const url = localUrl(hostname, await port);
  console.log(`[strata] sync server (Deno) listening on ${url} (${server.database.description})`);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= shutDown({ server, streams, stop: () => deno.shutdown() });
    return closing;
  };
  if (options.handleSignals ?? true) {
    stopOnSignals(close, {
      onSignal: (signal, listener) => Deno.addSignalListener(signal, listener),
      exit: (code) => Deno.exit(code),
    });
  }
  return { url, server, close };
}

// Run as a script (`deno run … src/runtimes/deno.ts`): the app of STRATA_APP, else the generic one.
if ((import.meta as { main?: boolean }).main === true) {
  try {
    const env = Deno.env.toObject();
    const app = await loadAppDefinition(undefined, env, Deno.cwd(), (line) => console.warn(line));
    await serveOnDeno(app, { env });
  } catch (error) {
    console.error(`[strata] failed: ${describeError(error)}`);
    Deno.exit(1);
  }
}
