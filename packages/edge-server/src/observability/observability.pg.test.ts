import { readServerSentEvents } from '@strata/core';
import { Todo } from '@strata/example-todo';
import {
  createTestDatabase,
  type Pool,
  type TestDatabase,
  testPostgres,
} from '@strata/tooling/postgres/neon';
import {
  bearerToken,
  commit,
  type FetchLike,
  syncClient,
  todoEvent,
} from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type ParsedFamily,
  parsePrometheusText,
  sampleValue,
} from '../../test/fixtures/observability/parse-prometheus-text.ts';
import { jwtAuthentication } from '../app/auth.ts';
import { createSyncApp, type SyncApp } from '../app/create-sync-app.ts';
import { consumerGroupStatus } from '../consumer-groups/consumer-group-admin.ts';
import { ensureConsumerGroup } from '../consumer-groups/consumer-group-definition.ts';
import { migrate } from '../migrations/migrations.ts';
import { startNodeServer } from '../node/server.ts';
import { outboxWriter } from '../outbox/outbox-writer.ts';
import { neonDatabase } from '../postgres/neon-database.ts';
import { PROMETHEUS_TEXT_CONTENT_TYPE } from './prometheus-text.ts';
import { jsonConsoleLog, type RequestLogLine } from './structured-log.ts';
import { createSyncMetrics } from './sync-metrics.ts';

// The sync app with metrics on, on the pg tier's Postgres through the Neon driver: what a scrape
// reads moves with what tenants do, and holds nothing of theirs.
const SECRET = 'observability-pg-jwt-secret';
const METRICS_TOKEN = 'metrics-secret-0123456789abcdef';
const TENANT_A = 'tenant-acme-7f1c';
const TENANT_B = 'tenant-globex-93d2';

let database: TestDatabase;
let pool: Pool;
let app: SyncApp;
const logs: RequestLogLine[] = [];
const reported: unknown[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  pool = database.createPool({ max: 10 });
  await migrate(neonDatabase(pool));
  app = createSyncApp({
    database: neonDatabase(pool),
    authenticate: jwtAuthentication({ secret: SECRET }),
    aggregates: [Todo],
    authority: { Todo: 'events' },
    appendHooks: [
      outboxWriter([{ destination: 'tenant-chosen-webhook-name', accepts: ['TodoAdded'] }]),
      // A bug in server code: a plain Error, answered 500.
      (events) => {
        if (events.some((event) => (event.data as { explode?: unknown }).explode === true)) {
          throw new Error('hook failed at postgres://user:hunter2@db/x');
        }
      },
    ],
    metrics: { token: METRICS_TOKEN },
    requestLog: (line) => logs.push(line),
    onError: (error) => reported.push(error),
    heartbeatMs: 200,
    pollIntervalMs: 50,
  });
});

afterAll(async () => {
  await app?.close();
  await pool?.end();
  await database?.drop();
});

const fetchApp: FetchLike = async (path, init) => app.request(path, init);

async function scrapeText(): Promise<string> {
  const response = await app.request('/metrics', {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe(PROMETHEUS_TEXT_CONTENT_TYPE);
  return response.text();
}

async function scrape(): Promise<Map<string, ParsedFamily>> {
  return parsePrometheusText(await scrapeText()); // throws on anything a scraper would reject
}

const value = (
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string> = {},
) => sampleValue(families, name, labels) ?? 0;

/** Each named sample's change between two scrapes. */
function moved(
  before: Map<string, ParsedFamily>,
  after: Map<string, ParsedFamily>,
  samples: Record<string, [string, Record<string, string>?]>,
) {
  return Object.fromEntries(
    Object.entries(samples).map(([key, [name, labels]]) => [
      key,
      value(after, name, labels) - value(before, name, labels),
    ]),
  );
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const result = await read();
    if (done(result)) return result;
    if (Date.now() > deadline) throw new Error(`not reached: ${JSON.stringify(result)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function storedEvents(tenant: string): Promise<number> {
  const { rows } = await pool.query<{ count: string }>(
    'SELECT count(*) FROM strata_events WHERE tenant = $1',
    [tenant],
  );
  return Number(rows[0]?.count);
}

describe('metrics on real Postgres', () => {
  it('count pushes, accepted commits, rejections by code and newly stored events', async () => {
    const client = syncClient(fetchApp, { token: await bearerToken(SECRET, TENANT_A) });
    const before = await scrape();
    const storedBefore = await storedEvents(TENANT_A);

    const first = [todoEvent('m-a', 1), todoEvent('m-a', 2)];
    const pushed = await client.push(commit('c1', ...first), commit('c2', todoEvent('m-b', 1)));
    expect(pushed.results.map((result) => result.status)).toEqual(['accepted', 'accepted']);
    // A lost acknowledgement retried: accepted again, nothing newly stored.
    await client.push(commit('c1', ...first));
    // A stale version, an unknown event type, a malformed commit: each rejected with its code.
    const rejected = await client.push(
      commit('stale', todoEvent('m-a', 2)),
      commit('unknown', todoEvent('m-c', 1, 'TodoTeleported')),
      { commitId: 'malformed', events: [{ ...todoEvent('m-d', 1), version: 0 }] } as never,
    );
    expect(rejected.results.map((result) => result.status === 'rejected' && result.code)).toEqual([
      'VERSION_CONFLICT',
      'UNKNOWN_EVENT_TYPE',
      'VALIDATION_FAILED',
    ]);
    // Whole pushes refused: no token, and a body that is not JSON.
    const anonymous = await fetchApp('/v1/push', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(anonymous.status).toBe(401);
    const garbled = await client.raw('/v1/push', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await bearerToken(SECRET, TENANT_A)}`,
        'content-type': 'application/json',
      },
      body: '{"clientId": "x", "commits": [',
    });
    expect(garbled.status).toBe(400);

    const after = await scrape();
    expect(
      moved(before, after, {
        pushes: ['strata_pushes_total', { protocol: 'v1' }],
        accepted: ['strata_commits_accepted_total', { protocol: 'v1' }],
        conflicts: ['strata_commits_rejected_total', { protocol: 'v1', code: 'VERSION_CONFLICT' }],
        unknown: ['strata_commits_rejected_total', { protocol: 'v1', code: 'UNKNOWN_EVENT_TYPE' }],
        invalid: ['strata_commits_rejected_total', { protocol: 'v1', code: 'VALIDATION_FAILED' }],
        unauthorized: ['strata_pushes_refused_total', { protocol: 'v1', code: 'UNAUTHORIZED' }],
        garbled: ['strata_pushes_refused_total', { protocol: 'v1', code: 'VALIDATION_FAILED' }],
        appended: ['strata_events_appended_total'],
        timed: ['strata_push_duration_seconds_count', { protocol: 'v1' }],
        problems401: ['strata_http_problems_total', { code: 'UNAUTHORIZED' }],
      }),
    ).toEqual({
      pushes: 5,
      accepted: 3,
      conflicts: 1,
      unknown: 1,
      invalid: 1,
      unauthorized: 1,
      garbled: 1,
      appended: 3,
      timed: 5,
      problems401: 1,
    });
    // The counter agrees with the database: 3 events were stored, the retry stored none.
    expect((await storedEvents(TENANT_A)) - storedBefore).toBe(3);
  });

  it('count protocol v2 commands and single commands by outcome', async () => {
    const token = await bearerToken(SECRET, TENANT_A);
    const before = await scrape();
    // Todo is `events` here: a v2 push of its predicted events is stored as pushed.
    const push = await app.request('/v2/push', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        protocol: 2,
        clientId: 'client-v2',
        commits: [
          {
            commitId: 'v2-1',
            command: {
              aggregateType: 'Todo',
              aggregateId: 'v2-todo',
              name: 'add',
              input: { title: 'v2' },
              issuedAt: new Date().toISOString(),
            },
            events: [todoEvent('v2-todo', 1)],
          },
          {
            commitId: 'v2-2',
            command: {
              aggregateType: 'Todo',
              aggregateId: 'v2-todo',
              name: 'add',
              input: { title: 'again' },
              issuedAt: new Date().toISOString(),
            },
            events: [todoEvent('v2-todo', 1)],
          },
        ],
      }),
    });
    expect(push.status).toBe(200);
    const answer = (await push.json()) as { results: { status: string; code?: string }[] };
    const command = await app.request('/v2/commands', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ aggregateType: 'Nope', aggregateId: 'x', name: 'add', input: {} }),
    });
    const refusal = (await command.json()) as { code: string };
    const after = await scrape();
    const rejectedCode = answer.results[1]?.code ?? 'none';
    expect(answer.results[0]?.status).toBe('accepted');
    expect(
      moved(before, after, {
        pushes: ['strata_pushes_total', { protocol: 'v2' }],
        accepted: ['strata_commits_accepted_total', { protocol: 'v2' }],
        rejected: ['strata_commits_rejected_total', { protocol: 'v2', code: rejectedCode }],
        commands: ['strata_pushes_total', { protocol: 'command' }],
        refused: ['strata_commits_rejected_total', { protocol: 'command', code: refusal.code }],
        appended: ['strata_events_appended_total'],
      }),
    ).toEqual({ pushes: 1, accepted: 1, rejected: 1, commands: 1, refused: 1, appended: 1 });
  });

  it('count open subscribers and how far behind they are', async () => {
    const token = await bearerToken(SECRET, TENANT_B);
    const client = syncClient(fetchApp, { token });
    await client.push(commit('s1', todoEvent('s-a', 1), todoEvent('s-a', 2)));
    const head = await storedEvents(TENANT_B);
    const before = await scrape();

    const one = await client.subscribe();
    const caughtUp = (messages: readonly { kind: string }[]) =>
      messages.some((message) => message.kind === 'caught-up');
    await one.next(caughtUp);
    // A second subscriber that reads nothing: the transport takes nothing, it stays behind.
    const controller = new AbortController();
    const idle = await app.request('/v1/subscribe', {
      headers: { authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    expect(idle.status).toBe(200);

    let families = await until(
      scrape,
      (f) => value(f, 'strata_subscribers', { protocol: 'v1' }) >= 2,
    );
    expect(value(families, 'strata_subscribers', { protocol: 'v1' })).toBe(
      value(before, 'strata_subscribers', { protocol: 'v1' }) + 2,
    );
    expect(
      moved(before, families, {
        opened: ['strata_subscriptions_opened_total', { protocol: 'v1' }],
      }),
    ).toEqual({ opened: 2 });
    // The idle one is the whole tenant's log behind; the reading one none.
    expect(value(families, 'strata_subscriber_max_lag_events')).toBe(head);
    expect(value(families, 'strata_subscriber_lag_events')).toBe(head);

    // Three more events: the reading subscriber gets them, the idle one falls further behind.
    await client.push(
      commit('s2', todoEvent('s-b', 1)),
      commit('s3', todoEvent('s-b', 2), todoEvent('s-b', 3)),
    );
    await one.next(
      (messages) => messages.filter((message) => message.kind === 'event').length >= head + 3,
    );
    families = await until(scrape, (f) => value(f, 'strata_subscriber_buffered_bytes') > 0);
    expect(value(families, 'strata_subscriber_max_lag_events')).toBe(head + 3);
    expect(value(families, 'strata_subscriber_lag_events')).toBe(head + 3);

    // Reading the idle one's stream to its end takes it to the head.
    const messages = readServerSentEvents(idle.body as ReadableStream<Uint8Array>);
    let events = 0;
    while (events < head + 3) {
      const { value: message } = await messages.next();
      if (message !== undefined && JSON.parse(message.data).kind === 'event') events++;
    }
    families = await until(scrape, (f) => value(f, 'strata_subscriber_max_lag_events') === 0);
    expect(value(families, 'strata_subscriber_lag_events')).toBe(0);

    // A scoped (v2) subscription counts under its own protocol.
    const scoped = new AbortController();
    const v2 = await app.request('/v2/subscribe?scope=tenant', {
      headers: { authorization: `Bearer ${token}` },
      signal: scoped.signal,
    });
    expect(v2.status).toBe(200);
    families = await until(scrape, (f) => value(f, 'strata_subscribers', { protocol: 'v2' }) === 1);
    expect(
      moved(before, families, {
        opened: ['strata_subscriptions_opened_total', { protocol: 'v2' }],
      }),
    ).toEqual({ opened: 1 });
    scoped.abort();
    await v2.body?.cancel().catch(() => undefined);
    await until(scrape, (f) => value(f, 'strata_subscribers', { protocol: 'v2' }) === 0);

    // Both leave: the gauge goes back down.
    one.close();
    controller.abort();
    void messages.return(undefined);
    families = await until(
      scrape,
      (f) =>
        value(f, 'strata_subscribers', { protocol: 'v1' }) ===
        value(before, 'strata_subscribers', { protocol: 'v1' }),
    );
    expect(value(families, 'strata_subscriber_max_lag_events')).toBe(0);
  });

  it('read the outbox and consumer-group backlogs from the database, as totals', async () => {
    const token = await bearerToken(SECRET, TENANT_B);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const { rows } = await pool.query<{ pending: string }>(
      "SELECT count(*) AS pending FROM strata_outbox WHERE status = 'pending'",
    );
    let families = await scrape();
    expect(value(families, 'strata_outbox_messages', { status: 'pending' })).toBe(
      Number(rows[0]?.pending),
    );
    expect(value(families, 'strata_backlog_exact', { backlog: 'outbox' })).toBe(1);
    const client = syncClient(fetchApp, { token });
    await client.push(
      commit('o1', todoEvent('o-a', 1), todoEvent('o-a', 2)),
      commit('o2', todoEvent('o-b', 1)),
    );
    const after = await scrape();
    // Two TodoAdded events routed to the one destination: two more pending rows.
    expect(
      moved(families, after, { pending: ['strata_outbox_messages', { status: 'pending' }] }),
    ).toEqual({
      pending: 2,
    });

    // A tenant's consumer group, named by the tenant: its backlog counts, its name never shows.
    const created = await app.request('/v1/groups/globex-secret-group', {
      method: 'PUT',
      headers,
      body: JSON.stringify({ partitions: 4 }),
    });
    expect(created.status).toBe(200);
    const status = (await created.json()) as { lag: number; lagExact: boolean };
    families = await scrape();
    expect(value(families, 'strata_consumer_groups')).toBe(1);
    expect(status.lagExact).toBe(true);
    expect(value(families, 'strata_consumer_group_backlog_events')).toBe(status.lag);
    expect(status.lag).toBe(await storedEvents(TENANT_B));
    expect(value(families, 'strata_consumer_group_max_backlog_events')).toBe(status.lag);
    expect(value(families, 'strata_backlog_exact', { backlog: 'consumer_groups' })).toBe(1);

    // A consumer takes five events and acks them: the backlog goes down by exactly that.
    const claim = (await (
      await app.request('/v1/groups/globex-secret-group/claim', {
        method: 'POST',
        headers,
        body: JSON.stringify({ consumerId: 'worker-1', limit: 5 }),
      })
    ).json()) as {
      partitions: { partition: number; from: string; until: string; events: unknown[] }[];
    };
    const acked = claim.partitions.reduce((sum, batch) => sum + batch.events.length, 0);
    expect(acked).toBeGreaterThan(0);
    const ack = await app.request('/v1/groups/globex-secret-group/ack', {
      method: 'POST',
      headers,
      body: JSON.stringify({
        consumerId: 'worker-1',
        partitions: claim.partitions.map(({ partition, from, until }) => ({
          partition,
          from,
          to: until,
        })),
      }),
    });
    expect(ack.status).toBe(200);
    const later = await scrape();
    const statusAfter = (await (
      await app.request('/v1/groups/globex-secret-group', { headers })
    ).json()) as { lag: number };
    expect(value(later, 'strata_consumer_group_backlog_events')).toBe(status.lag - acked);
    expect(statusAfter.lag).toBe(status.lag - acked);
    expect(value(later, 'strata_metrics_database_read_success')).toBe(1);
  });

  it('expose no tenant’s name, ids or data, whoever pushed what', async () => {
    for (const tenant of [TENANT_A, TENANT_B]) {
      const client = syncClient(fetchApp, {
        token: await bearerToken(SECRET, tenant, `subject-of-${tenant}`),
        clientId: `client-of-${tenant}`,
      });
      await client.push(
        commit(
          `commit-of-${tenant}`,
          todoEvent(`aggregate-of-${tenant}`, 1, 'TodoAdded', { title: `title-of-${tenant}` }),
        ),
        commit(`stale-of-${tenant}`, todoEvent(`aggregate-of-${tenant}`, 1)),
      );
    }
    const text = await scrapeText();
    const families = parsePrometheusText(text);
    for (const secret of [
      TENANT_A,
      TENANT_B,
      'acme',
      'globex',
      'aggregate-of',
      'title-of',
      'subject-of',
      'client-of',
      'commit-of',
      'webhook-name',
      'secret-group',
      'Todo',
      SECRET,
    ]) {
      expect(text).not.toContain(secret);
    }
    // Every label value is from a fixed set: codes, protocols, classes, states, the runtime.
    const allowed =
      /^([A-Z_]+|v1|v2|command|[1-5]xx|pending|dead|parked|queued|outbox|consumer_groups|node|other|[0-9.]+|\+Inf)$/;
    for (const family of families.values()) {
      for (const sample of family.samples) {
        for (const label of Object.values(sample.labels)) expect(label).toMatch(allowed);
      }
    }
    expect(value(families, 'strata_runtime_info', { runtime: 'node' })).toBe(1);
  });
});

describe('the metrics route', () => {
  it('answers 401 problem+json without the metrics secret, a tenant’s token included', async () => {
    const tenantToken = await bearerToken(SECRET, TENANT_A);
    for (const authorization of [
      undefined,
      `Bearer ${tenantToken}`,
      `Bearer ${METRICS_TOKEN}x`,
      `Bearer ${METRICS_TOKEN.slice(0, -1)}`,
      `Basic ${METRICS_TOKEN}`,
      METRICS_TOKEN,
    ]) {
      const response = await app.request('/metrics', {
        headers: authorization === undefined ? {} : { authorization },
      });
      expect(response.status, authorization).toBe(401);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      const body = (await response.json()) as { code: string; requestId: string };
      expect(body.code).toBe('UNAUTHORIZED');
      expect(body.requestId).toBe(response.headers.get('x-request-id'));
      expect(JSON.stringify(body)).not.toContain('strata_');
    }
  });

  it('is not there unless enabled (404, and nothing is recorded)', async () => {
    const plain = createSyncApp({
      database: neonDatabase(pool),
      authenticate: jwtAuthentication({ secret: SECRET }),
      requestLog: false,
      onError: () => undefined,
    });
    try {
      for (const authorization of [undefined, `Bearer ${METRICS_TOKEN}`]) {
        const response = await plain.request('/metrics', {
          headers: authorization === undefined ? {} : { authorization },
        });
        expect(response.status).toBe(404);
        expect(((await response.json()) as { code: string }).code).toBe('NOT_FOUND');
      }
    } finally {
      await plain.close();
    }
  });

  it('refuses a short metrics secret at start', () => {
    expect(() =>
      createSyncApp({
        database: neonDatabase(pool),
        authenticate: jwtAuthentication({ secret: SECRET }),
        metrics: { token: 'short' },
      }),
    ).toThrow(/at least 16/);
  });
});

describe('request ids and log lines', () => {
  it('every answer carries a request id, and its log line the same, with the route’s pattern only', async () => {
    const token = await bearerToken(SECRET, TENANT_A);
    await syncClient(fetchApp, { token }).push(
      commit('private', todoEvent('private-aggregate-42', 1)),
    );
    logs.length = 0;
    const response = await app.request('/v1/streams/Todo/private-aggregate-42/events?limit=5', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    const requestId = response.headers.get('x-request-id') ?? '';
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const line = logs.find((entry) => entry.requestId === requestId);
    expect(line).toMatchObject({
      level: 'info',
      msg: 'request',
      method: 'GET',
      route: '/v1/streams/:aggregateType/:aggregateId/events',
      status: 200,
    });
    expect(line?.durationMs).toBeGreaterThanOrEqual(0);
    const text = JSON.stringify(logs);
    for (const secret of ['private-aggregate-42', token, 'limit=5', TENANT_A]) {
      expect(text).not.toContain(secret);
    }
  });

  it('keeps a safe incoming id, replaces hostile ones and never echoes them', async () => {
    const safe = await app.request('/healthz', { headers: { 'x-request-id': 'lb-4f2a-01' } });
    expect(safe.headers.get('x-request-id')).toBe('lb-4f2a-01');
    for (const hostile of [
      'x'.repeat(10_000),
      'id\u001b[2J\u0007bell',
      'id"},{"level":"error","msg":"forged',
      'id with spaces',
    ]) {
      logs.length = 0;
      const response = await app.request('/v1/pull', { headers: { 'x-request-id': hostile } });
      expect(response.status).toBe(401);
      const requestId = response.headers.get('x-request-id') ?? '';
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      const body = await response.text();
      expect(body).not.toContain(hostile);
      expect((JSON.parse(body) as { requestId: string }).requestId).toBe(requestId);
      expect(JSON.stringify(logs)).not.toContain(hostile);
      expect(logs.map((entry) => entry.requestId)).toEqual([requestId]);
      expect(logs[0]).toMatchObject({ status: 401, code: 'UNAUTHORIZED', route: '/v1/pull' });
    }
  });

  it('a server error: 500 problem with the request id, reported to onError, logged scrubbed', async () => {
    const token = await bearerToken(SECRET, TENANT_A);
    logs.length = 0;
    reported.length = 0;
    const before = await storedEvents(TENANT_A);
    const response = await app.request('/v1/push', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        clientId: 'boom',
        commits: [commit('boom', todoEvent('boom', 1, 'TodoAdded', { title: 't', explode: true }))],
      }),
    });
    expect(response.status).toBe(500);
    const requestId = response.headers.get('x-request-id');
    const body = (await response.json()) as { code: string; requestId: string };
    expect(body).toMatchObject({ code: 'INTERNAL', requestId });
    expect(reported).toHaveLength(1); // the app's onError, as before
    const line = logs.find((entry) => entry.requestId === requestId);
    expect(line).toMatchObject({
      level: 'error',
      status: 500,
      code: 'INTERNAL',
      route: '/v1/push',
    });
    expect(line?.error).toContain('hook failed');
    expect(line?.error).not.toContain('hunter2');
    expect(await storedEvents(TENANT_A)).toBe(before); // nothing stored
  });

  it('the default error line names the request', async () => {
    const errorLine = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const failing = createSyncApp({
      database: neonDatabase(pool),
      authenticate: () => {
        throw new Error('authenticator bug');
      },
      requestLog: false,
    });
    try {
      const response = await failing.request('/v1/pull', {
        headers: { 'x-request-id': 'trace-me-1' },
      });
      expect(response.status).toBe(500);
      expect(errorLine).toHaveBeenCalledWith(
        '[strata] request failed: Error: authenticator bug (request trace-me-1)',
      );
    } finally {
      errorLine.mockRestore();
      await failing.close();
    }
  });

  it('an embedded app is quiet unless given a sink; jsonConsoleLog writes JSON lines', async () => {
    const logLine = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const quiet = createSyncApp({
      database: neonDatabase(pool),
      authenticate: jwtAuthentication({ secret: SECRET }),
    });
    const loud = createSyncApp({
      database: neonDatabase(pool),
      authenticate: jwtAuthentication({ secret: SECRET }),
      requestLog: jsonConsoleLog,
    });
    try {
      const silent = await quiet.request('/healthz');
      expect(silent.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(logLine).not.toHaveBeenCalled();
      const response = await loud.request('/healthz');
      const [[printed]] = logLine.mock.calls as [[string]];
      expect(JSON.parse(printed)).toMatchObject({
        msg: 'request',
        route: '/healthz',
        status: 200,
        requestId: response.headers.get('x-request-id'),
      });
    } finally {
      logLine.mockRestore();
      await quiet.close();
      await loud.close();
    }
  });

  it('the Node server logs a JSON line per request on its log and serves metrics, over real HTTP', async () => {
    const lines: string[] = [];
    const server = await startNodeServer({
      port: 0,
      hostname: '127.0.0.1',
      databaseUrl: database.url,
      jwtSecret: SECRET,
      env: {
        NEON_WS_PROXY: `127.0.0.1:${testPostgres().wsProxyPort}`,
        STRATA_METRICS_TOKEN: METRICS_TOKEN,
      },
      handleSignals: false,
      migrate: false,
      log: (line) => lines.push(line),
      warn: () => undefined,
    });
    try {
      const response = await fetch(`${server.url}/v1/pull`, {
        headers: { 'x-request-id': 'node-http-1' },
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('x-request-id')).toBe('node-http-1');
      // STRATA_METRICS_TOKEN turns the route on.
      const scraped = await fetch(`${server.url}/metrics`, {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      });
      expect(scraped.status).toBe(200);
      const families = parsePrometheusText(await scraped.text());
      expect(sampleValue(families, 'strata_http_problems_total', { code: 'UNAUTHORIZED' })).toBe(1);
      const logged = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
      expect(logged).toEqual([
        expect.objectContaining({
          requestId: 'node-http-1',
          route: '/v1/pull',
          status: 401,
          code: 'UNAUTHORIZED',
        }),
        expect.objectContaining({ route: '/metrics', status: 200 }),
      ]);
    } finally {
      await server.close();
    }
  });
});

describe('backlog reads', () => {
  it('count a server-side group over every tenant, as its status does', async () => {
    const db = neonDatabase(pool);
    const group = await ensureConsumerGroup(db, { name: 'server-side-audit' }, { partitions: 3 });
    const status = await consumerGroupStatus(db, group);
    expect(status.lagExact).toBe(true);
    const { rows } = await pool.query<{ count: string }>('SELECT count(*) FROM strata_events');
    expect(status.lag).toBe(Number(rows[0]?.count)); // every tenant's events, none acked yet
    const tenantGroups = (
      await pool.query<{ id: string }>(
        'SELECT id FROM strata_consumer_groups WHERE tenant IS NOT NULL',
      )
    ).rows;
    let tenantLag = 0;
    for (const { id } of tenantGroups) {
      const [stored] = (
        await pool.query<{ name: string; tenant: string }>(
          'SELECT name, tenant FROM strata_consumer_groups WHERE id = $1',
          [id],
        )
      ).rows;
      const tenantGroup = await ensureConsumerGroup(db, {
        name: stored?.name as string,
        tenant: stored?.tenant as string,
      });
      tenantLag += (await consumerGroupStatus(db, tenantGroup)).lag;
    }
    const families = await scrape();
    expect(value(families, 'strata_consumer_groups')).toBe(tenantGroups.length + 1);
    expect(value(families, 'strata_consumer_group_backlog_events')).toBe(status.lag + tenantLag);
    expect(value(families, 'strata_consumer_group_max_backlog_events')).toBe(
      Math.max(status.lag, tenantLag),
    );
  });

  it('stop at their limits and say so; a host serves the registry itself', async () => {
    const registry = createSyncMetrics({
      backlog: { outboxCountLimit: 1, consumerGroupScanLimit: 2, consumerGroupLimit: 1 },
    });
    const hosted = createSyncApp({
      database: neonDatabase(pool),
      authenticate: jwtAuthentication({ secret: SECRET }),
      metrics: { route: false, registry },
    });
    try {
      // No route: the host decides where the text is served.
      expect(
        (
          await hosted.request('/metrics', {
            headers: { authorization: `Bearer ${METRICS_TOKEN}` },
          })
        ).status,
      ).toBe(404);
      const token = await bearerToken(SECRET, TENANT_A);
      const pushed = await hosted.request('/v1/push', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ clientId: 'hosted', commits: [commit('h1', todoEvent('h-a', 1))] }),
      });
      expect(pushed.status).toBe(200);
      const families = parsePrometheusText(await registry.render({ database: neonDatabase(pool) }));
      expect(value(families, 'strata_pushes_total', { protocol: 'v1' })).toBe(1);
      expect(value(families, 'strata_outbox_messages', { status: 'pending' })).toBe(1);
      expect(value(families, 'strata_backlog_exact', { backlog: 'outbox' })).toBe(0);
      // Two events read of the oldest group, some maybe acked by their partition: "at least".
      expect(value(families, 'strata_consumer_group_max_backlog_events')).toBeLessThanOrEqual(2);
      expect(value(families, 'strata_consumer_groups')).toBe(2); // counted anyway
      expect(value(families, 'strata_backlog_exact', { backlog: 'consumer_groups' })).toBe(0);
      // Without a database: this instance's counters only.
      const local = parsePrometheusText(await registry.render());
      expect(local.has('strata_outbox_messages')).toBe(false);
      expect(value(local, 'strata_pushes_total', { protocol: 'v1' })).toBe(1);
    } finally {
      await hosted.close();
    }
  });

  it('a failed read leaves its gauges out, says so and reports it', async () => {
    const registry = createSyncMetrics();
    const failures: unknown[] = [];
    const broken = {
      query: async () => {
        throw new Error('connection refused');
      },
    };
    const families = parsePrometheusText(
      await registry.render({ database: broken, onError: (error) => failures.push(error) }),
    );
    expect(families.has('strata_outbox_messages')).toBe(false);
    expect(value(families, 'strata_metrics_database_read_success')).toBe(0);
    expect(failures.length).toBeGreaterThan(0);
    expect(value(families, 'strata_subscribers', { protocol: 'v1' })).toBe(0);
  });
});
