import { type AnyAggregateDefinition, NotFoundError, type StoredEvent } from '@strata/core';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { EncryptionOptions } from '../crypto/encryption-options.ts';
import { safeErrorReporter } from '../logging/describe-error.ts';
import type { AppendHook } from '../postgres/append-hook.ts';
import { createPostgresEventStore } from '../postgres/postgres-event-store.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import { createEventFeed } from '../subscriptions/event-feed.ts';
import type { ListenSource } from '../subscriptions/listen-source.ts';
import { createSubscriptionResponder } from '../subscriptions/subscription-response.ts';
import { type Authenticate, authenticatesNobody, type Principal } from './auth.ts';
import type { Authorize } from './authorize.ts';
import { type ConsumerGroupRouteLimits, consumerGroupRoutes } from './consumer-group-routes.ts';
import { forgetRoute } from './forget-route.ts';
import { DEFAULT_LIMITS, type SyncLimits } from './limits.ts';
import { problemResponse } from './problem-response.ts';
import {
  addressRateLimit,
  type ClientAddress,
  principalRateLimit,
  type RateLimitsOption,
  rateLimiterFor,
} from './rate-limit.ts';
import { readinessRoutes } from './readiness-route.ts';
import { requestGuard } from './request-guard.ts';
import { streamRoutes } from './stream-routes.ts';
import type { SyncEnv } from './sync-env.ts';
import { syncRoutes } from './sync-routes.ts';

/** Options of `createSyncApp`; defaults are applied here, once. */
export interface SyncAppOptions {
  /** Where events live: `neonDatabase(pool)` in production, `pgliteDatabase(pglite)` embedded. */
  readonly database: SqlDatabase;
  /** Who is calling; the tenant comes from here only. */
  readonly authenticate: Authenticate;
  /**
   * Aggregates whose events the server accepts, decoded with these shared definitions. When
   * absent, any well-formed event is accepted.
   */
  readonly aggregates?: readonly AnyAggregateDefinition[];
  /**
   * Also fold each pushed commit onto the aggregate's stored history with the shared `evolve`
   * and reject commits it throws on. Costs a load per commit. Defaults to false.
   */
  readonly foldThroughEvolve?: boolean;
  /**
   * Work inside every append's transaction, in order: `outboxWriter(...)` (async reactors,
   * relays), `syncReactors(...)`, your own. A throw rejects the commit. Defaults to none.
   */
  readonly appendHooks?: readonly AppendHook[];
  /**
   * Streams encrypted at rest with a key per aggregate (`encryptAggregates([...])`); their keys
   * are deleted with `DELETE /v1/streams/:type/:id/key` or `forgetAggregate`. Defaults to none.
   */
  readonly encryption?: EncryptionOptions;
  /** Per-aggregate read and write rules inside a tenant. Defaults to allowing everything. */
  readonly authorize?: Authorize;
  /** Size and subscription limits; each defaults as `DEFAULT_LIMITS` says. */
  readonly limits?: Partial<SyncLimits>;
  /** Allowed CORS origins. Defaults to none (same origin only). */
  readonly corsOrigins?: readonly string[];
  /**
   * Host names a server without authentication (`singleTenant`) answers besides `localhost`,
   * `127.0.0.1` and `[::1]` (DNS rebinding guard, see request-guard.ts). Defaults to none.
   */
  readonly allowedHosts?: readonly string[];
  /**
   * Request rate limits per principal and per client address (429 RATE_LIMITED): settings, a
   * shared `createRequestRateLimiter(...)`, or `false`. Defaults to `DEFAULT_RATE_LIMITS`.
   */
  readonly rateLimits?: RateLimitsOption;
  /** The client's address, for the per-address limit; each runtime entry point sets it. */
  readonly clientAddress?: ClientAddress;
  /** Bounds of the consumer-group routes (partitions, lag scan); `DEFAULT_CONSUMER_GROUP_ROUTE_LIMITS`. */
  readonly consumerGroups?: Partial<ConsumerGroupRouteLimits>;
  /**
   * Where unexpected errors are reported. Defaults to one scrubbed line on console.error
   * (`describeError`: name, code, message without literals; never the error object).
   */
  readonly onError?: (error: unknown) => void;
  /** LISTEN/NOTIFY for the subscription reader (`neonListen`, `pgliteListen`); else it polls. */
  readonly listen?: ListenSource;
  /** How often the subscription reader polls. Defaults to 1000 ms. */
  readonly pollIntervalMs?: number;
  /** Heartbeat interval on idle subscriptions. Defaults to 15 000 ms. */
  readonly heartbeatMs?: number;
}

/** The Hono app, plus `close()` to stop its subscription reader. */
export type SyncApp = Hono<SyncEnv> & { close(): Promise<void> };

/**
 * The sync server as a Hono app: it runs unchanged on Node, workerd, Bun and Deno.
 * `POST /v1/push`, `GET /v1/pull`, `GET /v1/subscribe` (SSE), `GET /v1/streams/:type/:id` (+ `/events`),
 * `GET /healthz` (liveness), `GET /readyz` (readiness); errors are `application/problem+json`.
 * Each feature's routes are a Hono sub-app of their own, mounted with `app.route` behind the
 * middleware that applies to them (probes before it; `/v1/*` behind the request guard, the
 * rate limits and authentication).
 *
 * @example
 * const app = createSyncApp({ database: neonDatabase(pool), authenticate: jwtAuthentication({ secret }) });
 * export default app; // workerd, Bun, Deno
 */
export function createSyncApp(options: SyncAppOptions): SyncApp {
  const limits: SyncLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const report = options.onError ?? safeErrorReporter('[strata] request failed');
  const aggregates =
    options.aggregates === undefined
      ? undefined
      : new Map(options.aggregates.map((aggregate) => [aggregate.type, aggregate]));
  const canRead = (principal: Principal, event: StoredEvent) =>
    options.authorize?.canRead?.(principal, event) ?? true;
  const storeFor = (principal: Principal) =>
    createPostgresEventStore(options.database, {
      tenant: principal.tenant,
      appendHooks: options.appendHooks ?? [],
      ...(options.encryption === undefined ? {} : { encryption: options.encryption }),
    });

  const respondSubscription = createSubscriptionResponder({ limits, onError: report });
  const feed = createEventFeed({
    database: options.database,
    ...(options.listen === undefined ? {} : { listen: options.listen }),
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
    onError: report,
  });

  const app = new Hono<SyncEnv>();
  app.onError((error, c) => problemResponse(error, new URL(c.req.url).pathname, report));
  app.notFound((c) =>
    problemResponse(new NotFoundError(`No route ${c.req.method} ${new URL(c.req.url).pathname}`)),
  );
  if (options.corsOrigins !== undefined && options.corsOrigins.length > 0) {
    app.use('*', cors({ origin: [...options.corsOrigins], exposeHeaders: ['content-type'] }));
  }

  app.route('/', readinessRoutes({ database: options.database })); // GET /healthz, /readyz

  // Cross-site and rebinding guard, then limits by address (forged tokens count), then by principal.
  app.use(
    '/v1/*',
    requestGuard({
      corsOrigins: options.corsOrigins ?? [],
      checkHost: authenticatesNobody(options.authenticate),
      allowedHosts: options.allowedHosts ?? [],
    }),
  );
  const rateLimiter = rateLimiterFor(options.rateLimits);
  if (rateLimiter) app.use('/v1/*', addressRateLimit(rateLimiter, options.clientAddress));
  app.use('/v1/*', async (c, next) => {
    c.set('principal', await options.authenticate(c.req.raw));
    await next();
  });
  if (rateLimiter) app.use('/v1/*', principalRateLimit(rateLimiter));

  app.route(
    '/v1',
    syncRoutes({
      storeFor,
      canRead,
      authorize: options.authorize,
      aggregates,
      foldThroughEvolve: options.foldThroughEvolve ?? false,
      limits,
      feed,
      respondSubscription,
      heartbeatMs: options.heartbeatMs ?? 15_000,
    }),
  );
  app.route(
    '/v1/groups',
    consumerGroupRoutes({
      database: options.database,
      canRead,
      ...(options.consumerGroups === undefined ? {} : { limits: options.consumerGroups }),
    }),
  );
  app.route('/v1/streams', streamRoutes({ storeFor, canRead }));
  app.route(
    '/v1/streams',
    forgetRoute({ database: options.database, authorize: options.authorize }),
  );

  return Object.assign(app, { close: () => feed.close() });
}
