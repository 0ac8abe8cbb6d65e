/**
 * The sync server on Deno (in packages/edge-server):
 * `deno run --allow-net --allow-env --allow-read --allow-write src/runtimes/deno.ts`
 * (read/write only for PGlite's folder; with DATABASE_URL, net and env are enough).
 *
 * Settings come from the environment, as for Node: DATABASE_URL (else PGlite in STRATA_DATA_DIR,
 * default .data/strata), JWT_SECRET, PORT, HOST, CORS_ORIGINS, STRATA_MIGRATE, NEON_WS_PROXY.
 * Deno has a global WebSocket, so the Neon driver needs no `ws`. Packages resolve from
 * node_modules (pnpm install first).
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
  exit(code: number): never;
};

const env = Deno.env.toObject();
const options = serverOptionsFromEnv(env);
const hostname = defaultHostname(env, options.jwtSecret !== undefined);
// The TCP peer of each request, for per-address rate limits (X-Forwarded-For is not trusted).
const peers = new WeakMap<Request, string>();
const server = await createServerApp({
  ...options,
  clientAddress: (request) => peers.get(request),
});
const streams = endableStreams((request) => server.app.fetch(request));
const deno = Deno.serve(
  {
    port: parsePort(envValue(env, 'PORT'), DEFAULT_PORT),
    hostname,
    onListen: ({ port }) =>
      console.log(
        `[strata] sync server (Deno) listening on ${localUrl(hostname, port)} (${server.database.description})`,
      ),
  },
  (request, info) => {
    const peer = info.remoteAddr.hostname;
    if (peer !== undefined) peers.set(request, peer);
    return streams.fetch(request);
  },
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  Deno.addSignalListener(signal, () => {
    if (stopping) Deno.exit(1);
    stopping = true;
    console.log(`[strata] ${signal}: shutting down`);
    shutDown({ server, streams, stop: () => deno.shutdown() }).then(
      () => {
        console.log('[strata] sync server stopped');
        Deno.exit(0);
      },
      (error: unknown) => {
        console.error(`[strata] shutdown failed: ${describeError(error)}`);
        Deno.exit(1);
      },
    );
  });
}
