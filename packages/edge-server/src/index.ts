// The public API of @strata/edge-server, named one by one: every name here is a promise to keep.
// The root runs a server; its features have entries of their own (@strata/edge-server/outbox,
// /consumer-groups, /projections, /reactors, /crypto) and each runtime too (/node, /worker).
// Routes, SQL, row converters and cursor codecs stay internal.

// Who calls (the tenant comes from here only) and what they may read and write.
export {
  type Authenticate,
  authenticatesNobody,
  type JwtAuthenticationOptions,
  jwtAuthentication,
  type Principal,
  singleTenant,
} from './app/auth.ts';
export type { Authorize } from './app/authorize.ts';
export {
  type ConsumerGroupRouteLimits,
  DEFAULT_CONSUMER_GROUP_ROUTE_LIMITS,
} from './app/consumer-group-routes.ts';
// The sync app: one Hono app for push, pull, subscribe, history and consumer groups.
export { createSyncApp, type SyncApp, type SyncAppOptions } from './app/create-sync-app.ts';
// Tokens from hosted auth (Clerk, Auth0, Supabase, Cognito): verified against its JWKS.
export {
  DEFAULT_JWKS_ALGORITHMS,
  JWKS_ALGORITHMS,
  type JwksAlgorithm,
  type JwksAuthenticationOptions,
  jwksAuthentication,
} from './app/jwks-authentication.ts';
export { DEFAULT_LIMITS, type SyncLimits } from './app/limits.ts';
// Request rate limits per principal and per client address.
export {
  type ClientAddress,
  createRequestRateLimiter,
  DEFAULT_RATE_LIMITS,
  type RateLimitSettings,
  type RateLimitsOption,
  type RequestRateLimiter,
} from './app/rate-limit.ts';
export type { RateLimitRule } from './app/rate-limit-policy.ts';
// Liveness and readiness (GET /healthz, /readyz).
export {
  checkReadiness,
  READINESS_TIMEOUT_MS,
  type ReadinessOptions,
  type ReadinessResponse,
} from './app/readiness-route.ts';
// Server authority: who has the last word on each aggregate's events, and commands run by the server.
export type { Authority, AuthorityOption } from './authority/authority.ts';
export type { ServerCommand } from './authority/command-authority.ts';
export {
  type PurgeDecidedCommandsOptions,
  purgeDecidedCommands,
} from './authority/purge-decided-commands.ts';
// The log's identity: a restored database gets a new one (clients re-bootstrap).
export { readLogId, replaceLogIdentity } from './log-identity/log-identity.ts';
// Error lines: one scrubbed line per error, never the error object.
export { describeError, safeErrorReporter } from './logging/describe-error.ts';
// The schema: migrations and what is applied.
export type { Migration } from './migrations/migration.ts';
export { MIGRATIONS, migrate } from './migrations/migrations.ts';
export { type SchemaStatus, schemaStatus } from './migrations/schema-status.ts';
// Observability: request ids, a JSON line per request, Prometheus metrics on an opt-in route.
export {
  type BacklogLimits,
  DEFAULT_BACKLOG_LIMITS,
} from './observability/backlog-reads.ts';
export { type MetricsOption, MIN_METRICS_TOKEN_LENGTH } from './observability/metrics-route.ts';
export { PROMETHEUS_TEXT_CONTENT_TYPE } from './observability/prometheus-text.ts';
export { REQUEST_ID_HEADER } from './observability/request-id.ts';
export {
  jsonConsoleLog,
  type RequestLogLine,
  type RequestLogSink,
} from './observability/structured-log.ts';
export {
  createSyncMetrics,
  type SyncMetrics,
  type SyncMetricsOptions,
} from './observability/sync-metrics.ts';
// The event store on Postgres, and work inside each append's transaction.
export type { AppendContext, AppendHook } from './postgres/append-hook.ts';
export { DATABASE_RETRY_AFTER_SECONDS, isConnectionLoss } from './postgres/connection-errors.ts';
export {
  createNeonPool,
  NEON_POOL_DEFAULTS,
  neonDatabase,
  type PoolSettings,
} from './postgres/neon-database.ts';
export { pgliteDatabase } from './postgres/pglite-database.ts';
export {
  createPostgresEventStore,
  type PostgresEventStore,
  type PostgresEventStoreOptions,
  type PostgresStreamMetadata,
} from './postgres/postgres-event-store.ts';
export type { PostgresStoredEvent } from './postgres/postgres-stored-event.ts';
// Databases: Postgres through the Neon driver, or PGlite embedded; LISTEN/NOTIFY; lost connections.
export type { SqlDatabase, SqlExecutor } from './postgres/sql-database.ts';
export { useNeonWsProxy } from './runtimes/env.ts';
// One app definition (aggregates, authority, scopes, authentication) for every runtime entry.
export {
  defineSyncServer,
  type SyncServerDefinition,
} from './runtimes/sync-server-definition.ts';
export { type IndexScopesResult, indexScopes } from './scopes/index-scopes.ts';
// Scoped sync: which scopes a device may hold (createSyncApp's `scopes`), and the scope rows of
// appends made outside the app (a store of your own keeps them with this hook).
export { scopeRowsHook } from './scopes/scope-rows-hook.ts';
export type {
  ScopePlacement,
  ScopeRule,
  ScopeRules,
  ScopesOptions,
} from './scopes/scope-rules.ts';
export {
  type BoundedSseWriter,
  type BoundedSseWriterOptions,
  createBoundedSseWriter,
} from './subscriptions/bounded-sse-writer.ts';
export { type ListenSource, neonListen, pgliteListen } from './subscriptions/listen-source.ts';
// Server-side subscriptions to the global order of all tenants, and the bounded SSE writer.
export {
  type ServerSubscriptionOptions,
  subscribeToEvents,
} from './subscriptions/server-subscription.ts';
