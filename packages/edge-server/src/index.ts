export * from './app/auth.ts';
export * from './app/authorize.ts';
export * from './app/consumer-group-routes.ts';
export * from './app/create-sync-app.ts';
export * from './app/forget-route.ts';
export * from './app/limits.ts';
export * from './app/problem-response.ts';
export * from './app/push-handler.ts';
export {
  type ClientAddress,
  createRequestRateLimiter,
  DEFAULT_RATE_LIMITS,
  type RateLimitSettings,
  type RateLimitsOption,
  type RequestRateLimiter,
} from './app/rate-limit.ts';
export type { RateLimitRule } from './app/rate-limit-policy.ts';
export {
  checkReadiness,
  READINESS_TIMEOUT_MS,
  type ReadinessOptions,
  type ReadinessResponse,
} from './app/readiness-route.ts';
export * from './app/stream-routes.ts';
export * from './app/wire-event.ts';
export * from './consumer-groups/index.ts';
export * from './crypto/index.ts';
export { describeError, safeErrorReporter } from './logging/describe-error.ts';
export * from './migrations/migrations.ts';
export { type SchemaStatus, schemaStatus } from './migrations/schema-status.ts';
export * from './outbox/index.ts';
export * from './postgres/append-hook.ts';
export { DATABASE_RETRY_AFTER_SECONDS, isConnectionLoss } from './postgres/connection-errors.ts';
export * from './postgres/global-cursor.ts';
export * from './postgres/neon-database.ts';
export * from './postgres/pglite-database.ts';
export * from './postgres/postgres-event-store.ts';
export type { PostgresStoredEvent } from './postgres/postgres-stored-event.ts';
export * from './postgres/sql-database.ts';
export * from './projections/index.ts';
export * from './reactors/index.ts';
export {
  type BoundedSseWriter,
  type BoundedSseWriterOptions,
  createBoundedSseWriter,
} from './subscriptions/bounded-sse-writer.ts';
export * from './subscriptions/event-feed.ts';
export * from './subscriptions/listen-source.ts';
export * from './subscriptions/server-subscription.ts';
export * from './subscriptions/subscription-stream.ts';
