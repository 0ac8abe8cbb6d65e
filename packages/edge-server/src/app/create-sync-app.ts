import {
  AggregateNotFoundError,
  type AnyAggregateDefinition,
  type AnyScopeDefinition,
  LOG_ID_HEADER,
  NotFoundError,
  parseOrThrow,
  type StoredEvent,
  StreamParamsSchema,
  type StreamRef,
  tenantScope,
} from '@strata/core';
import { Hono, type MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { type Authority, type AuthorityOption, authorityOf } from '../authority/authority.ts';
import { createCommandAuthority, type ServerCommand } from '../authority/command-authority.ts';
import type { EncryptionOptions } from '../crypto/encryption-options.ts';
import { createLogIdentity } from '../log-identity/log-identity.ts';
import { safeErrorReporter } from '../logging/describe-error.ts';
import { appObservability } from '../observability/app-observability.ts';
import type { MetricsOption } from '../observability/metrics-route.ts';
import { failedRequestReporter, type RequestLogSink } from '../observability/structured-log.ts';
import { openApiRoute } from '../openapi/openapi-route.ts';
import type { AppendHook } from '../postgres/append-hook.ts';
import { createPostgresEventStore } from '../postgres/postgres-event-store.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import { currentScopesOf } from '../scopes/current-scopes.ts';
import { scopeRowsHook } from '../scopes/scope-rows-hook.ts';
import { assertHolds, type ScopesOptions, scopeAccess } from '../scopes/scope-rules.ts';
import { holdsAggregate, mayWriteAggregate, scopeWriteCheck } from '../scopes/scope-write-check.ts';
import { createWritingPrincipals } from '../scopes/writing-principals.ts';
import { createEventFeed } from '../subscriptions/event-feed.ts';
import type { ListenSource } from '../subscriptions/listen-source.ts';
import { createScopeFeed } from '../subscriptions/scope-feed.ts';
import {
  createSseResponder,
  createSubscriptionResponder,
} from '../subscriptions/subscription-response.ts';
import { type Authenticate, authenticatesNobody, type Principal } from './auth.ts';
import type { Authorize } from './authorize.ts';
import { commandRoutes } from './command-routes.ts';
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
import { scopedSyncRoutes } from './scoped-sync-routes.ts';
import { streamRoutes } from './stream-routes.ts';
import type { SyncEnv } from './sync-env.ts';
import { syncRoutes } from './sync-routes.ts';

/** Options of `createSyncApp`; defaults are applied here, once. */
export interface SyncAppOptions<TScope extends AnyScopeDefinition = AnyScopeDefinition> {
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
   * Who has the last word per aggregate type (`decide` unless named): `decide` runs pushed
   * commands on the server's state and stores the server's events, `verify` stores the client's
   * events only when deciding again yields the same, `events` stores them as pushed (payloads the
   * server cannot read). Only registered aggregates can be decided; without `aggregates`,
   * every commit is `events`.
   *
   * @example
   * createSyncApp({ database, authenticate, aggregates: [Todo, Cart, Diary], authority: { Diary: 'events' } });
   */
  readonly authority?: AuthorityOption;
  /** Aggregate states the server keeps per tenant between commands (authority). Defaults to 1000. */
  readonly stateCacheSize?: number;
  /**
   * Authority `events` only: also fold each pushed commit onto the aggregate's stored history
   * with the shared `evolve` and reject commits it throws on. Costs a load per commit. Defaults
   * to false.
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
  /**
   * Scoped sync (`POST /v2/pull`, `GET /v2/subscribe`): the scopes devices may hold, the
   * membership folds that place aggregates in them (kept as scope rows in every append's
   * transaction) and a rule per scope name saying who may hold it. Once given, the whole tenant
   * (the `tenant` scope, v1 pull and subscribe, consumer groups) is granted only by
   * `rules.tenant`, and a write needs a scope the writer may hold: one of the aggregate's current
   * scopes, or for a new aggregate one its events make it join (else `FORBIDDEN`, nothing
   * stored). Defaults to none: every principal reads and writes its whole tenant.
   *
   * @example
   * scopes: {
   *   definitions: [project, assignedTo],
   *   membership: [taskScopes],
   *   rules: {
   *     project: (principal, { projectId }) => projectsOf(principal).includes(projectId),
   *     assignedTo: (principal, { userId }) => principal.subject === userId,
   *     tenant: (principal) => principal.claims?.role === 'admin',
   *   },
   * }
   */
  readonly scopes?: ScopesOptions<TScope>;
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
  /**
   * Prometheus metrics (pushes, commits by code, events appended, subscribers and their lag,
   * outbox and consumer-group backlogs) on `GET /metrics` behind a bearer secret of their own
   * (not a tenant's token), or recorded for the host to serve (`route: false`). Defaults to off:
   * no route (404), nothing recorded.
   *
   * @example
   * metrics: { token: env.METRICS_TOKEN } // scrape with Authorization: Bearer <token>
   */
  readonly metrics?: MetricsOption;
  /**
   * Where each request's log line goes (request id, method, route pattern, status, duration,
   * error code; never tokens, bodies, paths or tenants), e.g. `jsonConsoleLog`; `false` or
   * absent for none. Every answer carries `x-request-id` either way. Defaults to none here, so
   * an embedded app (tests, examples) stays quiet; the server entry points (`startNodeServer`,
   * Bun, Deno, `createSyncWorker`) default to one JSON line per request on their log.
   */
  readonly requestLog?: RequestLogSink | false;
  /** LISTEN/NOTIFY for the subscription reader (`neonListen`, `pgliteListen`); else it polls. */
  readonly listen?: ListenSource;
  /** How often the subscription reader polls. Defaults to 1000 ms. */
  readonly pollIntervalMs?: number;
  /** Heartbeat interval on idle subscriptions. Defaults to 15 000 ms. */
  readonly heartbeatMs?: number;
}

/**
 * The Hono app, plus `close()` to stop its subscription reader and `execute` for server-side
 * commands (a webhook handler, a reactor, a job): decided like pushed ones, by the principal's
 * rights (`authorize.canWrite` and the command's `allow`), with its identity stamped.
 */
export type SyncApp = Hono<SyncEnv> & {
  close(): Promise<void>;
  /** Runs one command on the server's state as `principal`; returns the stored events. */
  execute(principal: Principal, command: ServerCommand): Promise<readonly StoredEvent[]>;
};

/**
 * The sync server as a Hono app: it runs unchanged on Node, workerd, Bun and Deno.
 * `POST /v1/push`, `GET /v1/pull`, `GET /v1/subscribe` (SSE), `GET /v1/streams/:type/:id` (+ `/events`),
 * `POST /v2/push`, `POST /v2/commands`, scoped `POST /v2/pull` and `GET`/`POST /v2/subscribe` (SSE),
 * `GET /healthz` (liveness), `GET /readyz` (readiness), opt-in `GET /metrics` (Prometheus),
 * `GET /openapi.json` (this protocol's OpenAPI description, docs/openapi.json);
 * errors are `application/problem+json`. Every answer carries `x-request-id`. Each feature's routes are a Hono sub-app of their own, mounted with `app.route` behind the
 * middleware that applies to them (probes before it; `/v1/*` behind the request guard, the
 * rate limits and authentication).
 *
 * @example
 * const app = createSyncApp({ database: neonDatabase(pool), authenticate: jwtAuthentication({ secret }) });
 * export default app; // workerd, Bun, Deno
 */
export function createSyncApp<TScope extends AnyScopeDefinition = AnyScopeDefinition>(
  options: SyncAppOptions<TScope>,
): SyncApp {
  const limits: SyncLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const report = options.onError ?? safeErrorReporter('[strata] request failed');
  const observability = appObservability(options); // request ids, log lines, metrics
  const aggregates =
    options.aggregates === undefined
      ? undefined
      : new Map(options.aggregates.map((aggregate) => [aggregate.type, aggregate]));
  const canRead = (principal: Principal, event: StoredEvent) =>
    options.authorize?.canRead?.(principal, event) ?? true;
  const access = scopeAccess(options.scopes as ScopesOptions | undefined);

  // Who writes what the authority decides (its command handler and store are the tenant's).
  const writing = createWritingPrincipals();
  const storeWith = (tenant: string, writerOf: Parameters<typeof scopeWriteCheck>[1]) =>
    observability.counted(
      createPostgresEventStore(options.database, {
        tenant,
        // The rows hook runs the write check on the scopes it reads, before it moves them.
        appendHooks: [
          ...(options.scopes === undefined
            ? []
            : [scopeRowsHook(options.scopes.membership, scopeWriteCheck(access, writerOf))]),
          ...(options.appendHooks ?? []),
        ],
        ...(options.encryption === undefined ? {} : { encryption: options.encryption }),
      }),
    );
  const storeFor = (principal: Principal) => storeWith(principal.tenant, () => principal);

  // With scopes, an aggregate outside the writer's scopes is refused before anything loads or
  // decides it, and a refusal reports version 0 for it: no answer (accepted, a domain refusal,
  // a version) tells what it holds. The append checks the scopes a new aggregate joins.
  const mayWrite = async (principal: Principal, stream: StreamRef) =>
    !access.configured || mayWriteAggregate(access, options.database, principal, stream);
  const canWrite = async (principal: Principal, stream: StreamRef) =>
    (await mayWrite(principal, stream)) &&
    ((await options.authorize?.canWrite?.(principal, stream)) ?? true);
  const authorize: Authorize = { ...options.authorize, canWrite };
  const versionOf = async (principal: Principal, stream: StreamRef) =>
    (await mayWrite(principal, stream)) ? storeFor(principal).streamVersion(stream) : 0;
  // A push answer names the scopes of an aggregate the writer may hold, never the others: one
  // read for the push's aggregates, each scope's rule asked once.
  const heldScopesOf = async (principal: Principal, streams: readonly StreamRef[]) => {
    const holds = new Map<string, Promise<boolean>>();
    const holdsScope = (key: string) => {
      let answer = holds.get(key);
      if (answer === undefined) {
        answer = access.holdsAny(principal, [key]);
        holds.set(key, answer);
      }
      return answer;
    };
    const held = new Map<string, string[]>();
    for (const [stream, keys] of await currentScopesOf(
      options.database,
      principal.tenant,
      streams,
    )) {
      const mine: string[] = [];
      for (const key of keys) if (await holdsScope(key)) mine.push(key);
      held.set(stream, mine);
    }
    return held;
  };
  const decider = createCommandAuthority({
    database: options.database,
    aggregates: aggregates ?? new Map(),
    storeFor: (principal) => storeWith(principal.tenant, writing.writerOf),
    canWrite,
    ...(options.stateCacheSize === undefined ? {} : { stateCacheSize: options.stateCacheSize }),
    // An encrypted aggregate's data can be forgotten under a cached state (by any instance).
    cachesState: (stream) => options.encryption?.encrypts(stream) !== true,
  });
  const authority: typeof decider = {
    forgetStates: (tenant) => decider.forgetStates(tenant),
    decide: (writer, command) =>
      writing.during(command.commandId, writer.principal, () => decider.decide(writer, command)),
    decideMany: (writer, commands, batch) =>
      writing.duringAll(
        commands.map((command) => command.commandId),
        writer.principal,
        () => decider.decideMany(writer, commands, batch),
      ),
    verifyMany: (writer, entries, batch) =>
      writing.duringAll(
        entries.map(({ command }) => command.commandId),
        writer.principal,
        () => decider.verifyMany(writer, entries, batch),
      ),
    verify: (writer, command, predicted) =>
      writing.during(command.commandId, writer.principal, () =>
        decider.verify(writer, command, predicted),
      ),
  };
  // Without registered aggregates the server can decide nothing: every commit is `events`.
  const authorityOfType = (type: string): Authority =>
    aggregates === undefined ? 'events' : authorityOf(options.authority, type);

  // One set of subscription slots for both protocols.
  const sse = observability.subscriptions(createSseResponder({ limits, onError: report }));
  const respondSubscription = createSubscriptionResponder({ limits, onError: report }, sse);
  const feed = createEventFeed({
    database: options.database,
    ...(options.listen === undefined ? {} : { listen: options.listen }),
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
    onError: report,
  });
  const scopeFeed = createScopeFeed({ feed, database: options.database, onError: report });
  const heartbeatMs = options.heartbeatMs ?? 15_000;

  const app = new Hono<SyncEnv>();
  app.use('*', observability.middleware); // first: every answer gets its request id
  app.onError((error, c) =>
    problemResponse(
      error,
      new URL(c.req.url).pathname,
      options.onError ?? failedRequestReporter(c.get('requestId')),
    ),
  );
  app.notFound((c) =>
    problemResponse(new NotFoundError(`No route ${c.req.method} ${new URL(c.req.url).pathname}`)),
  );
  if (options.corsOrigins !== undefined && options.corsOrigins.length > 0) {
    app.use(
      '*',
      cors({
        origin: [...options.corsOrigins],
        exposeHeaders: ['content-type', 'x-request-id', LOG_ID_HEADER],
      }),
    );
  }

  app.route('/', readinessRoutes({ database: options.database })); // GET /healthz, /readyz
  const metricsRoutes = observability.route(options.database, report); // opt-in GET /metrics
  if (metricsRoutes !== undefined) app.route('/', metricsRoutes);
  app.route('/', openApiRoute()); // GET /openapi.json: the protocol's description, no auth

  // Cross-site and rebinding guard, then limits by address (forged tokens count), then by principal.
  // Both protocol versions (v2: command pushes) behind the same middleware.
  const guard = requestGuard({
    corsOrigins: options.corsOrigins ?? [],
    checkHost: authenticatesNobody(options.authenticate),
    allowedHosts: options.allowedHosts ?? [],
  });
  const rateLimiter = rateLimiterFor(options.rateLimits);
  // Pull answers (both protocols) name the log they come from, so a client notices a replaced database; pushes
  // and the live stream need not (a catch-up comes first), and pay no read for it.
  const logIdentity = createLogIdentity(options.database);
  const nameTheLog: MiddlewareHandler<SyncEnv> = async (c, next) => {
    await next();
    const logId = await logIdentity.current();
    if (logId !== undefined) c.res.headers.set(LOG_ID_HEADER, logId);
  };
  app.use('/v1/pull', nameTheLog);
  app.use('/v2/pull', nameTheLog);
  for (const api of ['/v1/*', '/v2/*']) {
    app.use(api, guard);
    if (rateLimiter) app.use(api, addressRateLimit(rateLimiter, options.clientAddress));
    app.use(api, async (c, next) => {
      c.set('principal', await options.authenticate(c.req.raw));
      await next();
    });
    if (rateLimiter) app.use(api, principalRateLimit(rateLimiter));
  }

  if (access.configured) {
    // With scopes, the whole tenant is one scope among others: its reads need `rules.tenant`.
    for (const wholeTenant of ['/v1/pull', '/v1/subscribe', '/v1/groups/*']) {
      app.use(wholeTenant, async (c, next) => {
        await assertHolds(access, c.get('principal'), [tenantScope]);
        await next();
      });
    }
    // One aggregate's history or key: by `tenant` or a current scope, as a write would need;
    // else it is missing, as in stream-routes.ts, so its existence does not leak.
    for (const oneAggregate of [
      '/v1/streams/:aggregateType/:aggregateId',
      '/v1/streams/:aggregateType/:aggregateId/*',
    ]) {
      app.use(oneAggregate, async (c, next) => {
        const stream = parseOrThrow(StreamParamsSchema, c.req.param(), 'stream path');
        if (!(await holdsAggregate(access, options.database, c.get('principal'), stream))) {
          throw new AggregateNotFoundError(stream);
        }
        await next();
      });
    }
  }

  app.route(
    '/v1',
    syncRoutes({
      storeFor,
      canRead,
      authorize,
      ...(access.configured ? { versionOf } : {}),
      aggregates,
      foldThroughEvolve: options.foldThroughEvolve ?? false,
      requiresCommand: (type) => authorityOfType(type) !== 'events',
      limits,
      feed,
      respondSubscription,
      heartbeatMs,
      ...(access.configured
        ? { holdsTenant: (principal: Principal) => access.holdsAny(principal, [tenantScope.key]) }
        : {}),
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
    forgetRoute({
      database: options.database,
      authorize,
      onForgotten: (tenant) => authority.forgetStates(tenant),
    }),
  );

  app.route(
    '/v2',
    commandRoutes({
      storeFor,
      authority,
      authorityOf: authorityOfType,
      authorize,
      events: {
        ...(aggregates === undefined ? {} : { aggregates }),
        foldThroughEvolve: options.foldThroughEvolve ?? false,
      },
      limits,
      feed,
      ...(access.configured ? { scopesOf: heldScopesOf, versionOf } : {}),
    }),
  );
  app.route(
    '/v2',
    scopedSyncRoutes({
      database: options.database,
      access,
      // Only the app's own rule: without one, pulls may answer snapshots (scoped-sync-routes.ts).
      ...(options.authorize?.canRead === undefined ? {} : { canRead }),
      limits,
      sse,
      scopeFeed,
      heartbeatMs,
    }),
  );

  return Object.assign(app, {
    close: () => feed.close(),
    async execute(principal: Principal, command: ServerCommand) {
      const events = await authority.decide({ principal }, command);
      feed.wake();
      return events;
    },
  });
}
