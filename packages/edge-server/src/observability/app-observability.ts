/**
 * What `createSyncApp` wires in for observability, from its `metrics` and `requestLog` options:
 * the first middleware (request ids, log lines, answers counted), the stores' appends counted,
 * the SSE responder's subscriptions tracked, and the metrics route. Kept here so the app's own
 * file holds a line per hook.
 */
import type { Hono, MiddlewareHandler } from 'hono';
import type { SyncEnv } from '../app/sync-env.ts';
import type { PostgresEventStore } from '../postgres/postgres-event-store.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import type { SseResponder } from '../subscriptions/subscription-response.ts';
import { countedAppends } from './counted-appends.ts';
import { assertMetricsToken, type MetricsOption, metricsRoute } from './metrics-route.ts';
import { observeRequests } from './observe-requests.ts';
import type { RequestLogSink } from './structured-log.ts';
import { createSyncMetrics, recorderOf } from './sync-metrics.ts';

/** The observability options of `createSyncApp`. */
export interface ObservabilityOptions {
  readonly metrics?: MetricsOption;
  readonly requestLog?: RequestLogSink | false;
}

/** The app's hooks. */
export interface AppObservability {
  /** Mount first: `app.use('*', observability.middleware)`. */
  readonly middleware: MiddlewareHandler<SyncEnv>;
  /** The store, with its newly stored events counted (itself when metrics are off). */
  counted(store: PostgresEventStore): PostgresEventStore;
  /** The responder, with its subscriptions tracked (itself when metrics are off). */
  subscriptions(responder: SseResponder): SseResponder;
  /** The metrics route to mount at the root, when the app serves one. */
  route(database: SqlExecutor, onError: (error: unknown) => void): Hono<SyncEnv> | undefined;
}

/**
 * The hooks for `options`; metrics are off unless `metrics` is given, request log lines go
 * nowhere unless `requestLog` is given (the server entry points give one).
 *
 * @example
 * const observability = appObservability({ metrics: { token }, requestLog: false });
 */
export function appObservability(options: ObservabilityOptions): AppObservability {
  const option = options.metrics;
  // A bad secret fails at start, not at the first scrape.
  if (option !== undefined && !('route' in option)) assertMetricsToken(option.token);
  const metrics = option === undefined ? undefined : (option.registry ?? createSyncMetrics());
  const recorder = metrics === undefined ? undefined : recorderOf(metrics);
  const log = options.requestLog === false ? undefined : options.requestLog;
  return {
    middleware: observeRequests({ log, metrics: recorder }),
    counted: (store) =>
      recorder === undefined ? store : countedAppends(store, recorder.eventsAppended),
    subscriptions: (responder) =>
      recorder === undefined ? responder : recorder.subscriptions.observe(responder),
    route(database, onError) {
      if (option === undefined || 'route' in option || metrics === undefined) return undefined;
      return metricsRoute({
        token: option.token,
        path: option.path ?? '/metrics',
        metrics,
        database,
        onError,
      });
    },
  };
}
