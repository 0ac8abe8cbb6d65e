/**
 * The sync server as a Cloudflare Workers module (runs in workerd; see wrangler.toml).
 *
 * Bindings: `DATABASE_URL` (secret: a Neon or other Postgres URL), `JWT_SECRET` (secret: HS256 key
 * of the bearer tokens) or, for tokens from hosted auth, `JWT_JWKS_URL` with `JWT_ISSUER` and
 * `JWT_AUDIENCE` (vars; see `authenticationFromEnv`), optional `CORS_ORIGINS` (comma-separated) and `NEON_WS_PROXY`
 * (`host:port[/path]` of a plain-WebSocket proxy in front of Postgres, for local runs and tests).
 *
 * Connections: a Workers request cannot use I/O objects (WebSockets) opened by another request, so,
 * as Neon prescribes for Workers, every request gets its own `Pool`, ended once its response is
 * done (`ctx.waitUntil`, so it does not delay the response). A subscription (`GET /v1/subscribe`)
 * keeps its Pool until the client goes away; it cannot hold LISTEN across requests, so it polls.
 * No `nodejs_compat` flag is needed: the Neon driver, hono and strata use web APIs only.
 *
 * Rate limits: one in-memory limiter per isolate, shared by the requests' apps, keyed by the
 * `cf-connecting-ip` header Cloudflare sets (the client's address) and by principal. Limits per
 * isolate, not global: for a global quota, add Cloudflare's rate limiting rules in front.
 * `STRATA_RATE_LIMIT_PER_PRINCIPAL` / `STRATA_RATE_LIMIT_PER_ADDRESS` (requests per minute, or
 * `off`) change the defaults.
 *
 * Observability: one JSON log line per request on console.log (Workers Logs). `STRATA_METRICS_TOKEN`
 * (secret) turns on `GET /metrics` behind that bearer token; its counters are per isolate (each
 * isolate counts on its own, from its start), shared by the isolate's requests.
 */
import type { ExecutionContext } from 'hono';
import type { Authenticate } from '../app/auth.ts';
import { createSyncApp } from '../app/create-sync-app.ts';
import { problemResponse } from '../app/problem-response.ts';
import { createRequestRateLimiter, type RequestRateLimiter } from '../app/rate-limit.ts';
import { safeErrorReporter } from '../logging/describe-error.ts';
import type { MetricsOption } from '../observability/metrics-route.ts';
import { jsonConsoleLog } from '../observability/structured-log.ts';
import { createSyncMetrics, type SyncMetrics } from '../observability/sync-metrics.ts';
import { createNeonPool, neonDatabase } from '../postgres/neon-database.ts';
import { cachedAuthenticationFromEnv } from './authentication-from-env.ts';
import { envValue, parseList, requestPolicyFromEnv, useNeonWsProxy } from './env.ts';
import { defineSyncServer, type SyncServerDefinition } from './sync-server-definition.ts';

/** The Worker's bindings (`[vars]` and secrets). */
export interface SyncWorkerEnv {
  readonly DATABASE_URL?: string;
  readonly JWT_SECRET?: string;
  /** Tokens from hosted auth instead: see `authenticationFromEnv` for these and the other JWT_* vars. */
  readonly JWT_JWKS_URL?: string;
  readonly JWT_ISSUER?: string;
  readonly JWT_AUDIENCE?: string;
  readonly JWT_ALGORITHMS?: string;
  readonly JWT_TENANT_CLAIM?: string;
  readonly JWT_CLOCK_TOLERANCE_SECONDS?: string;
  readonly CORS_ORIGINS?: string;
  readonly NEON_WS_PROXY?: string;
  readonly STRATA_RATE_LIMIT_PER_PRINCIPAL?: string;
  readonly STRATA_RATE_LIMIT_PER_ADDRESS?: string;
  /** Secret: turns on `GET /metrics` behind this bearer token (at least 16 characters). */
  readonly STRATA_METRICS_TOKEN?: string;
}

/**
 * Options of `createSyncWorker`: the app definition (`defineSyncServer`), the same one the Node,
 * Bun and Deno entries take, fixed at build time. The database comes from the bindings, and so
 * does authentication unless the definition has `authenticate`; no LISTEN (impossible across
 * requests: subscriptions poll). `corsOrigins` defaults to the `CORS_ORIGINS` binding.
 */
export type SyncWorkerOptions = SyncServerDefinition;

/** A Workers module handler. */
export interface SyncWorker {
  fetch(request: Request, env: SyncWorkerEnv, ctx: ExecutionContext): Promise<Response>;
}

/**
 * A Workers handler serving the app on a request-scoped Neon `Pool`.
 *
 * @example
 * // src/worker.ts of an app: its definition, shared with its other entries (app.ts)
 * import app from './app.ts';
 * export default createSyncWorker(app);
 */
export function createSyncWorker(options: SyncWorkerOptions = defineSyncServer({})): SyncWorker {
  const report = options.onError ?? safeErrorReporter('[strata] request failed');
  let proxy: string | undefined;
  // Per isolate, like the rate limiter: a JWKS is fetched once, not on every request.
  const authenticationOf = cachedAuthenticationFromEnv();
  // Built at the first request (bindings are only known then), then shared by every request's app.
  let rateLimiter: RequestRateLimiter | false | undefined;
  // Every request has an app of its own: metrics are counted once per isolate, across them.
  let isolateMetrics: SyncMetrics | undefined;
  const metricsFor = (env: SyncWorkerEnv): MetricsOption | undefined => {
    const token = envValue(env, 'STRATA_METRICS_TOKEN');
    const configured = options.metrics ?? (token === undefined ? undefined : { token });
    if (configured === undefined || configured.registry !== undefined) return configured;
    isolateMetrics ??= createSyncMetrics();
    return { ...configured, registry: isolateMetrics };
  };
  return {
    async fetch(request, env, ctx) {
      const databaseUrl = envValue(env, 'DATABASE_URL');
      // A Worker is public: it never serves unauthenticated (JWT_SECRET or JWT_JWKS_URL, or a hook).
      const tokens = envValue(env, 'JWT_SECRET') ?? envValue(env, 'JWT_JWKS_URL');
      if (databaseUrl === undefined || (tokens === undefined && !options.authenticate)) {
        const missing =
          databaseUrl === undefined
            ? 'DATABASE_URL binding (wrangler secret put DATABASE_URL)'
            : 'JWT_SECRET binding (wrangler secret put JWT_SECRET) or JWT_JWKS_URL variable';
        return problemResponse(
          new Error(`The Worker has no ${missing}`),
          new URL(request.url).pathname,
          report,
        );
      }
      let authenticate: Authenticate;
      try {
        authenticate = options.authenticate ?? authenticationOf(env);
      } catch (error) {
        return problemResponse(error, new URL(request.url).pathname, report); // misconfigured
      }
      const wsProxy = envValue(env, 'NEON_WS_PROXY');
      if (wsProxy !== undefined && wsProxy !== proxy) {
        useNeonWsProxy(wsProxy); // neonConfig is per isolate; bindings are the same for all requests
        proxy = wsProxy;
      }

      // Same defaults as the long-running servers: a database that is down answers 503 in 5 s.
      const pool = createNeonPool({ connectionString: databaseUrl }, report);
      const corsOrigins = options.corsOrigins ?? parseList(envValue(env, 'CORS_ORIGINS'));
      if (rateLimiter === undefined) {
        const settings = options.rateLimits ?? requestPolicyFromEnv(env).rateLimits ?? {};
        rateLimiter =
          settings === false || 'checkAddress' in settings
            ? settings
            : createRequestRateLimiter(settings);
      }
      const metrics = metricsFor(env);
      const app = createSyncApp({
        // No onError unless the app gives one (in `options`): the app's default reports as
        // `report` does, and names the request in a failed request's line.
        requestLog: jsonConsoleLog, // Workers Logs parse JSON lines
        clientAddress: (incoming) => incoming.headers.get('cf-connecting-ip') ?? undefined,
        ...options,
        ...(metrics === undefined ? {} : { metrics }),
        rateLimits: rateLimiter,
        corsOrigins,
        database: neonDatabase(pool),
        authenticate,
      });
      let released: Promise<void> | undefined;
      const release = () => {
        released ??= app
          .close()
          .catch(report)
          .finally(() => pool.end())
          .catch(report);
        return released;
      };

      let response: Response;
      try {
        response = await app.fetch(request, env, ctx);
      } catch (error) {
        ctx.waitUntil(release());
        throw error;
      }
      if (
        response.body !== null &&
        response.headers.get('content-type')?.startsWith('text/event-stream')
      ) {
        // The subscription keeps reading from the pool until it ends, and its pool ends then,
        // whichever way it ends: the client leaving (with the `enable_request_signal`
        // compatibility flag workerd aborts `request.signal`, also before the stream was
        // returned), the stream ending (a `closing`, a slow reader, a failed write), or the
        // response being cancelled (the abort alone once missed under CI load, leaving a pool open).
        const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
        response.body.pipeTo(writable).then(
          () => ctx.waitUntil(release()),
          () => ctx.waitUntil(release()),
        );
        if (request.signal.aborted) ctx.waitUntil(release());
        else
          request.signal.addEventListener('abort', () => ctx.waitUntil(release()), { once: true });
        return new Response(readable, response);
      }
      ctx.waitUntil(release());
      return response;
    },
  };
}

/**
 * The generic server: no app definition, so no aggregates to validate events against; any
 * well-formed event is stored as pushed. Deploy an entry of your own instead:
 * `export default createSyncWorker(app)`.
 */
export default createSyncWorker();
