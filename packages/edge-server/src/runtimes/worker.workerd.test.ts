import {
  CommandPushResponseSchema,
  readServerSentEvents,
  ScopedPullResponseSchema,
  ScopedSubscriptionMessageSchema,
} from '@strata/core';
import { project } from '@strata/example-todo';
import { createTestDatabase, type TestDatabase, testPostgres } from '@strata/tooling/postgres/neon';
import {
  bearerToken,
  commit,
  type FetchLike,
  type SyncClient,
  syncClient,
  todoEvent,
} from '@strata/tooling/sync/sync-client';
import { runInWorkerd, type WorkerdHandle } from '@strata/tooling/workerd/run-in-workerd';
import { sign } from 'hono/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectCatchUpThenLive,
  expectPushPullAndConflict,
} from '../../test/fixtures/sync-scenario.ts';
import { migrate } from '../migrations/migrations.ts';
import { neonDatabase } from '../postgres/neon-database.ts';

// The Workers entry (worker.ts, with the Todo aggregate registered: test/fixtures/runtimes/test-worker.ts),
// bundled as a deploy bundles it, in real workerd without nodejs_compat, against the tier's
// Postgres through the Neon driver and the local WebSocket proxy.
const SECRET = 'workerd-test-secret';
let db: TestDatabase;
let worker: WorkerdHandle;
let fetchWorker: FetchLike;
let client: SyncClient;

beforeAll(async () => {
  db = await createTestDatabase('strata_workerd');
  const pool = db.createPool();
  try {
    await migrate(neonDatabase(pool)); // from Node, as `pnpm migrate` does before a deploy
  } finally {
    await pool.end();
  }
  worker = await runInWorkerd({
    entry: new URL('../../test/fixtures/runtimes/test-worker.ts', import.meta.url),
    // As in wrangler.toml: lets the worker see a subscriber leave (see worker.ts).
    compatibilityFlags: ['enable_request_signal'],
    bindings: {
      DATABASE_URL: db.url,
      JWT_SECRET: SECRET,
      NEON_WS_PROXY: `127.0.0.1:${testPostgres().wsProxyPort}`,
    },
  });
  fetchWorker = (path, init) => worker.fetch(path, init);
  client = syncClient(fetchWorker, { token: await bearerToken(SECRET, 'tenant-w') });
});

afterAll(async () => {
  await worker?.dispose();
  await db?.drop();
});

/** Names this test's own probe connections, so a probe's backend still exiting is not counted. */
const PROBE = 'strata-workerd-probe';

/** Connections to the test database other than probes, described (for the failure message). */
async function openConnections(): Promise<string[]> {
  const pool = db.createPool({ max: 1, application_name: PROBE });
  try {
    const { rows } = await pool.query<{ name: string; state: string; query: string }>(
      `SELECT application_name AS name, state, left(query, 80) AS query FROM pg_stat_activity
       WHERE datname = $1 AND application_name IS DISTINCT FROM $2`,
      [db.name, PROBE],
    );
    return rows.map((row) => `${row.name || '-'} ${row.state}: ${row.query}`);
  } finally {
    await pool.end();
  }
}

describe('the sync worker in workerd', () => {
  it('answers health checks and refuses requests without a valid token', async () => {
    expect((await client.raw('/healthz')).status).toBe(200);
    const response = await syncClient(fetchWorker).raw('/v1/pull');
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('stores pushed commits, serves them from pull and rejects a conflicting commit', async () => {
    const ids = await expectPushPullAndConflict(client);
    // Another tenant of the same database sees none of it.
    const other = syncClient(fetchWorker, { token: await bearerToken(SECRET, 'tenant-other') });
    expect(await other.pullAll()).toEqual([]);
    // The events really are in Postgres, with their tenant.
    const pool = db.createPool({ max: 1 });
    try {
      const { rows } = await pool.query('SELECT id, tenant FROM strata_events ORDER BY position');
      expect(rows).toEqual(ids.map((id) => ({ id, tenant: 'tenant-w' })));
    } finally {
      await pool.end();
    }
  });

  it('decodes events with the registered aggregates inside workerd', async () => {
    const bad = { ...todoEvent('todo-bad', 1), data: { title: 42 } as never };
    const unknown = { ...todoEvent('todo-unknown', 1), type: 'TodoExploded' as 'TodoAdded' };
    const { results } = await client.push(commit('bad', bad), commit('unknown', unknown));
    expect(results).toEqual([
      expect.objectContaining({ commitId: 'bad', status: 'rejected', code: 'VALIDATION_FAILED' }),
      expect.objectContaining({
        commitId: 'unknown',
        status: 'rejected',
        code: 'UNKNOWN_EVENT_TYPE',
      }),
    ]);
  });

  it('decides pushed commands inside workerd: the server’s events, the token’s user', async () => {
    const push = async (name: string, input: unknown) => {
      const command = {
        aggregateType: 'Cart',
        aggregateId: 'cart-w',
        name,
        input,
        issuedAt: new Date().toISOString(),
      };
      const response = await client.raw('/v2/push', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await bearerToken(SECRET, 'tenant-w')}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          protocol: 2,
          clientId: 'd',
          commits: [{ commitId: `${name}-w`, command, events: [] }],
        }),
      });
      return ((await response.json()) as { results: Record<string, unknown>[] }).results[0];
    };
    expect(await push('open', {})).toMatchObject({
      status: 'accepted',
      events: [{ type: 'CartOpened', data: { owner: 'user-1' } }],
    });
    expect(await push('addItem', { sku: '' })).toMatchObject({
      status: 'rejected',
      code: 'VALIDATION_FAILED',
    });
    const pool = db.createPool({ max: 1 });
    try {
      const { rows } = await pool.query(
        `SELECT type, metadata->>'userId' AS "userId" FROM strata_events WHERE aggregate_id = 'cart-w'`,
      );
      expect(rows).toEqual([{ type: 'CartOpened', userId: 'user-1' }]);
    } finally {
      await pool.end();
    }
  });

  it('streams a subscription: catch-up, then live events (polling: no LISTEN on Workers)', async () => {
    const stored = (await client.pullAll()).map((event) => event.id);
    await expectCatchUpThenLive(client, stored);
  });

  it('serves scoped sync inside workerd: a scope’s tasks only, 403 for a scope not held, live by polling', async () => {
    const as = async (user: string, projects: string[]) => {
      const token = await sign(
        { sub: user, tenant: 'tenant-w', projects, exp: Math.floor(Date.now() / 1000) + 600 },
        SECRET,
      );
      return (path: string, body?: unknown, signal?: AbortSignal) =>
        worker.fetch(path, {
          method: body === undefined ? 'GET' : 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          ...(signal === undefined ? {} : { signal }),
        });
    };
    const ann = await as('ann', ['p1']);
    const bob = await as('bob', []);
    const task = (id: string, name: string, input: unknown) => ({
      protocol: 2,
      clientId: 'd',
      commits: [
        {
          commitId: `${id}-${name}`,
          command: {
            aggregateType: 'Task',
            aggregateId: id,
            name,
            input,
            issuedAt: new Date().toISOString(),
          },
          events: [],
        },
      ],
    });
    const P1 = project({ projectId: 'p1' }).key;
    const results = async (response: Promise<{ json(): Promise<unknown> }>) =>
      CommandPushResponseSchema.parse(await (await response).json()).results;
    const created = await results(
      ann('/v2/push', task('t-w1', 'create', { projectId: 'p1', title: 'a', assignee: 'ann' })),
    );
    expect(created[0]).toMatchObject({
      status: 'accepted',
      scopes: expect.arrayContaining([P1]),
    });
    // Bob may write his own task elsewhere, not into p1.
    await bob('/v2/push', task('t-w2', 'create', { projectId: 'p9', title: 'b', assignee: 'bob' }));
    const intoP1 = await results(
      bob('/v2/push', task('t-w3', 'create', { projectId: 'p1', title: 'c', assignee: 'ann' })),
    );
    expect(intoP1[0]).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });

    const page = ScopedPullResponseSchema.parse(
      await (await ann('/v2/pull', { scopes: [{ scope: P1 }] })).json(),
    );
    expect(
      page.items.map((item) => item.kind === 'event' && [item.event.aggregateId, item.scopes]),
    ).toEqual([['t-w1', [P1]]]);
    const refused = await bob('/v2/pull', { scopes: [{ scope: P1 }] });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(await refused.json()).toMatchObject({ code: 'FORBIDDEN', scopes: [P1] });

    const stream = new AbortController();
    const response = await ann(
      `/v2/subscribe?scope=${encodeURIComponent(P1)}&after=${page.cursors[P1]}`,
      undefined,
      stream.signal,
    );
    const messages = readServerSentEvents(response.body as ReadableStream<Uint8Array>);
    const next = async () => {
      for (;;) {
        const { value, done } = await messages.next();
        if (done) throw new Error('the subscription ended');
        const message = ScopedSubscriptionMessageSchema.parse(JSON.parse(value.data));
        if (message.kind !== 'heartbeat') return message;
      }
    };
    try {
      expect((await next()).kind).toBe('caught-up');
      await ann('/v2/push', task('t-w1', 'rename', { title: 'renamed' }));
      const live = await next();
      expect(live.kind === 'event' && [live.event.type, live.event.aggregateId]).toEqual([
        'TaskRenamed',
        't-w1',
      ]);
    } finally {
      stream.abort();
    }
  });

  it('ends every request-scoped pool, a subscription’s once its client has gone', async () => {
    // Generous: on a loaded machine the worker notices a gone client only at its next heartbeat.
    await expect.poll(openConnections, { timeout: 15_000, interval: 50 }).toEqual([]);
  });
});
