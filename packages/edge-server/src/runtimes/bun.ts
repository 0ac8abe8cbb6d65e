/**
 * The sync server on Bun: `bun src/runtimes/bun.ts` (in packages/edge-server).
 *
 * Settings come from the environment, as for Node: DATABASE_URL (else PGlite in STRATA_DATA_DIR,
 * default .data/strata), JWT_SECRET, PORT, HOST, CORS_ORIGINS, STRATA_MIGRATE, NEON_WS_PROXY.
 * Bun has a global WebSocket, so the Neon driver needs no `ws`.
 */

import { describeError } from '../logging/describe-error.ts';
import { envValue, parsePort } from './env.ts';
import {
  createServerApp,
  DEFAULT_PORT,
  defaultHostname,
  endableStreams,
  localUrl,
  serverOptionsFromEnv,
  shutDown,
} from './server-app.ts';

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
  process: { on(signal: string, listener: () => void): void; exit(code: number): never };
};

const env = Bun.env;
const options = serverOptionsFromEnv(env);
const hostname = defaultHostname(env, options.jwtSecret !== undefined);
// The TCP peer of each request, for per-address rate limits (X-Forwarded-For is not trusted).
const peers = new WeakMap<Request, string>();
const server = await createServerApp({
  ...options,
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
console.log(
  `[strata] sync server (Bun) listening on ${localUrl(hostname, bun.port)} (${server.database.description})`,
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log(`[strata] ${signal}: shutting down`);
    shutDown({ server, streams, stop: () => bun.stop(), force: () => bun.stop(true) }).then(
      () => {
        console.log('[strata] sync server stopped');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`[strata] shutdown failed: ${describeError(error)}`);
        process.exit(1);
      },
    );
  });
}
