/**
 * strata's metrics: what a sync server's operator scrapes. Counters are per process (Node, Bun,
 * Deno) or per isolate (workerd: every isolate counts on its own, from zero when it starts;
 * Prometheus' `rate()` and `sum()` over instances are built for that). Gauges of the database's
 * backlogs are read at scrape time, with bounded work (backlog-reads.ts).
 *
 * Every label comes from a fixed set (protocols, error codes, status classes, runtimes): no
 * tenant, principal, aggregate, group or destination name ever becomes one, so the text a scrape
 * reads holds no tenant's data.
 */
import { type ErrorCode, ProblemDetailsSchema } from '@strata/core';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import {
  type BacklogLimits,
  DEFAULT_BACKLOG_LIMITS,
  readConsumerGroupBacklog,
  readOutboxBacklog,
  readTenantHeads,
} from './backlog-reads.ts';
import { createMetricsRegistry, type GaugeReading } from './metrics-registry.ts';
import {
  createOpenSubscriptions,
  deliveredTenantPosition,
  type OpenSubscriptions,
} from './open-subscriptions.ts';
import { serializePrometheusText } from './prometheus-text.ts';
import { RUNTIME_NAMES, runtimeName } from './runtime-name.ts';

/** What a push was: protocol v1 (events), v2 (commands), or one command (`POST /v2/commands`). */
export type PushProtocol = 'v1' | 'v2' | 'command';

/** Options of `createSyncMetrics`. */
export interface SyncMetricsOptions {
  /**
   * What a scrape may read to count backlogs, or `false` to read nothing from the database
   * (only this instance's counters and subscribers). Each limit defaults as
   * `DEFAULT_BACKLOG_LIMITS` says.
   */
  readonly backlog?: Partial<BacklogLimits> | false;
}

/**
 * One process's (or isolate's) strata metrics, shared by every app that records into it. Pass it
 * to `createSyncApp({ metrics: { token, registry } })`, or serve `render()` on a route of your own.
 */
export interface SyncMetrics {
  /**
   * The metrics in the Prometheus text format; with `database`, the backlogs read from it too
   * (outbox, consumer groups, subscriber lag).
   */
  render(options?: {
    readonly database?: SqlExecutor;
    /** Where a failed backlog read is reported (its gauges are left out of this scrape). */
    readonly onError?: (error: unknown) => void;
  }): Promise<string>;
}

/** What the app records into; internal (not part of `SyncMetrics`). */
export interface SyncMetricsRecorder {
  response(status: number, code: ErrorCode | undefined): void;
  pushAnswered(
    protocol: PushProtocol,
    seconds: number,
    results: readonly { readonly status: string; readonly code?: string }[],
  ): void;
  pushRefused(protocol: PushProtocol, seconds: number, code: ErrorCode): void;
  eventsAppended(count: number): void;
  readonly subscriptions: OpenSubscriptions;
}

const recorders = new WeakMap<SyncMetrics, SyncMetricsRecorder>();

/** The recorder behind `metrics` (made by `createSyncMetrics`). */
export function recorderOf(metrics: SyncMetrics): SyncMetricsRecorder {
  const recorder = recorders.get(metrics);
  if (recorder === undefined) throw new TypeError('Not made by createSyncMetrics');
  return recorder;
}

const CODES: readonly string[] = ProblemDetailsSchema.shape.code.options;
const PROTOCOLS: readonly PushProtocol[] = ['v1', 'v2', 'command'];
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];
/** Seconds: a push is a few ms to a few s (a batch of hundreds of commits, a slow database). */
const PUSH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * A fresh set of strata's metrics. In workerd, make it once per module (an isolate's requests
 * share it); `createSyncWorker` does that for you.
 *
 * @example
 * const metrics = createSyncMetrics();
 * const app = createSyncApp({ database, authenticate, metrics: { token: env.METRICS_TOKEN, registry: metrics } });
 */
export function createSyncMetrics(options: SyncMetricsOptions = {}): SyncMetrics {
  const backlog =
    options.backlog === false ? false : { ...DEFAULT_BACKLOG_LIMITS, ...options.backlog };
  const registry = createMetricsRegistry();
  const subscriptions = createOpenSubscriptions();

  registry.collectedGauge(
    {
      name: 'strata_runtime_info',
      help: 'The runtime this instance runs on (always 1).',
      labels: { runtime: RUNTIME_NAMES },
    },
    async () => [{ labels: { runtime: runtimeName() }, value: 1 }],
  );
  const responses = registry.counter({
    name: 'strata_http_responses_total',
    help: 'Responses of the sync app, by status class.',
    labels: { class: STATUS_CLASSES },
  });
  const problems = registry.counter({
    name: 'strata_http_problems_total',
    help: 'problem+json answers of the sync app, by error code.',
    labels: { code: CODES },
  });
  const pushes = registry.counter({
    name: 'strata_pushes_total',
    help: 'Pushes answered (v1, v2, and single commands), refused ones included.',
    labels: { protocol: PROTOCOLS },
  });
  const refusedPushes = registry.counter({
    name: 'strata_pushes_refused_total',
    help: 'Whole pushes answered with a problem (malformed, too large, unauthorized, unavailable), by code.',
    labels: { protocol: PROTOCOLS, code: CODES },
  });
  const pushSeconds = registry.histogram({
    name: 'strata_push_duration_seconds',
    help: 'Time from a push request to its answer.',
    labels: { protocol: PROTOCOLS },
    buckets: PUSH_BUCKETS,
  });
  const accepted = registry.counter({
    name: 'strata_commits_accepted_total',
    help: 'Commits (or commands) accepted, re-pushed ones included.',
    labels: { protocol: PROTOCOLS },
  });
  const rejected = registry.counter({
    name: 'strata_commits_rejected_total',
    help: 'Commits (or commands) rejected, by code.',
    labels: { protocol: PROTOCOLS, code: CODES },
  });
  const appended = registry.counter({
    name: 'strata_events_appended_total',
    help: 'Events newly stored through this instance (re-pushed events not counted again).',
  });
  const opened = registry.counter({
    name: 'strata_subscriptions_opened_total',
    help: 'SSE subscriptions started.',
    labels: { protocol: ['v1', 'v2'] },
  });
  registry.collectedGauge(
    {
      name: 'strata_subscribers',
      help: 'SSE subscriptions open on this instance.',
      labels: { protocol: ['v1', 'v2'] },
    },
    async () => {
      const open = subscriptions.list();
      return (['v1', 'v2'] as const).map((protocol) => ({
        labels: { protocol },
        value: open.filter((subscription) => subscription.protocol === protocol).length,
      }));
    },
  );
  registry.collectedGauge(
    {
      name: 'strata_subscriber_buffered_bytes',
      help: 'Bytes of SSE messages queued for subscribers and not yet taken by the transport.',
    },
    async () => [
      {
        labels: {},
        value: subscriptions.list().reduce((sum, { writer }) => sum + writer.bufferedBytes, 0),
      },
    ],
  );

  const databaseOf = (context: unknown) => (context as { database?: SqlExecutor }).database;
  /** One read per scrape, shared by the gauges it feeds; a failure leaves them out. */
  const once = <T>(read: (db: SqlExecutor) => Promise<T>) => {
    const reads = new WeakMap<object, Promise<T | undefined>>();
    return (context: unknown): Promise<T | undefined> => {
      const db = databaseOf(context);
      if (db === undefined || backlog === false) return Promise.resolve(undefined);
      let result = reads.get(context as object);
      if (result === undefined) {
        result = read(db).catch((error: unknown) => {
          (context as { failed: unknown[] }).failed.push(error);
          return undefined;
        });
        reads.set(context as object, result);
      }
      return result;
    };
  };
  const lag = once(async (db) => {
    const whole = subscriptions
      .list()
      .map((subscription) => ({ subscription, at: deliveredTenantPosition(subscription) }))
      .filter((entry): entry is typeof entry & { at: number } => entry.at !== undefined);
    const heads = await readTenantHeads(db, [
      ...new Set(whole.map(({ subscription }) => subscription.tenant)),
    ]);
    const behind = whole.map(({ subscription, at }) =>
      Math.max(0, (heads.get(subscription.tenant) ?? 0) - at),
    );
    return { total: behind.reduce((a, b) => a + b, 0), max: Math.max(0, ...behind) };
  });
  const gauge = <T>(
    name: string,
    help: string,
    read: (context: unknown) => Promise<T | undefined>,
    value: (result: T) => number,
  ) =>
    registry.collectedGauge({ name, help }, async (context) => {
      const result = await read(context);
      return result === undefined ? undefined : [{ labels: {}, value: value(result) }];
    });
  gauge(
    'strata_subscriber_lag_events',
    'Events whole-tenant (v1) subscribers are behind their tenant’s head, summed (events they may not read count as behind).',
    lag,
    (result) => result.total,
  );
  gauge(
    'strata_subscriber_max_lag_events',
    'Events the furthest-behind whole-tenant (v1) subscriber is behind its tenant’s head.',
    lag,
    (result) => result.max,
  );

  const limits = backlog === false ? DEFAULT_BACKLOG_LIMITS : backlog;
  const outbox = once((db) => readOutboxBacklog(db, limits));
  registry.collectedGauge(
    {
      name: 'strata_outbox_messages',
      help: `Outbox messages not yet relayed (pending) or out of attempts (dead), each counted up to ${limits.outboxCountLimit}.`,
      labels: { status: ['pending', 'dead'] },
    },
    async (context): Promise<GaugeReading<'status'> | undefined> => {
      const result = await outbox(context);
      return result === undefined
        ? undefined
        : [
            { labels: { status: 'pending' }, value: result.pending },
            { labels: { status: 'dead' }, value: result.dead },
          ];
    },
  );
  const groups = once((db) => readConsumerGroupBacklog(db, limits));
  gauge(
    'strata_consumer_groups',
    'Consumer groups (all tenants and server-side).',
    groups,
    (r) => r.groups,
  );
  gauge(
    'strata_consumer_group_backlog_events',
    'Events consumer groups have not acked yet, summed over groups (see strata_backlog_exact).',
    groups,
    (result) => result.events,
  );
  gauge(
    'strata_consumer_group_max_backlog_events',
    'The largest backlog of one consumer group.',
    groups,
    (result) => result.maxEvents,
  );
  registry.collectedGauge(
    {
      name: 'strata_consumer_group_parked_events',
      help: 'Parked consumer-group events: waiting for an operator (parked) or queued for replay.',
      labels: { state: ['parked', 'queued'] },
    },
    async (context): Promise<GaugeReading<'state'> | undefined> => {
      const result = await groups(context);
      return result === undefined
        ? undefined
        : [
            { labels: { state: 'parked' }, value: result.parked },
            { labels: { state: 'queued' }, value: result.queued },
          ];
    },
  );
  registry.collectedGauge(
    {
      name: 'strata_backlog_exact',
      help: '1 when a backlog was counted in full, 0 when a scrape limit cut it (its gauges say "at least").',
      labels: { backlog: ['outbox', 'consumer_groups'] },
    },
    async (context): Promise<GaugeReading<'backlog'> | undefined> => {
      const [box, group] = [await outbox(context), await groups(context)];
      const reading: { labels: { backlog: string }; value: number }[] = [];
      if (box !== undefined)
        reading.push({ labels: { backlog: 'outbox' }, value: box.exact ? 1 : 0 });
      if (group !== undefined) {
        reading.push({ labels: { backlog: 'consumer_groups' }, value: group.exact ? 1 : 0 });
      }
      return reading.length === 0 ? undefined : reading;
    },
  );
  registry.collectedGauge(
    {
      name: 'strata_metrics_database_read_success',
      help: '1 when this scrape read every backlog from the database, 0 when a read failed.',
    },
    async (context) =>
      databaseOf(context) === undefined || backlog === false
        ? undefined
        : [{ labels: {}, value: (context as { failed: unknown[] }).failed.length === 0 ? 1 : 0 }],
  );

  const recorder: SyncMetricsRecorder = {
    response(status, code) {
      responses.inc({ class: `${Math.floor(status / 100)}xx` });
      if (code !== undefined) problems.inc({ code });
    },
    pushAnswered(protocol, seconds, results) {
      pushes.inc({ protocol });
      pushSeconds.observe({ protocol }, seconds);
      let acceptedCount = 0;
      for (const result of results) {
        if (result.status === 'accepted') acceptedCount++;
        else rejected.inc({ protocol, code: result.code ?? 'other' });
      }
      if (acceptedCount > 0) accepted.inc({ protocol }, acceptedCount);
    },
    pushRefused(protocol, seconds, code) {
      pushes.inc({ protocol });
      pushSeconds.observe({ protocol }, seconds);
      refusedPushes.inc({ protocol, code });
    },
    eventsAppended(count) {
      if (count > 0) appended.inc({}, count);
    },
    subscriptions: {
      observe: (responder) =>
        subscriptions.observe(responder, (protocol) => opened.inc({ protocol })),
      list: subscriptions.list,
    },
  };
  const metrics: SyncMetrics = {
    async render(renderOptions = {}) {
      const context = { database: renderOptions.database, failed: [] as unknown[] };
      const text = serializePrometheusText(await registry.collect(context));
      for (const error of context.failed) renderOptions.onError?.(error);
      return text;
    },
  };
  recorders.set(metrics, recorder);
  return metrics;
}
