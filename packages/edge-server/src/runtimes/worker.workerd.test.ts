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

/** Connections to the test database other than the asking one. */
async function openConnections(): Promise<number> {
  const pool = db.createPool({ max: 1 });
  try {
    const { rows } = await pool.query<{ count: string }>(
      'SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [db.name],
    );
    return Number(rows[0]?.count);
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

  it('ends every request-scoped pool, a subscription’s once its client has gone', async () => {
    await expect.poll(openConnections, { timeout: 5_000, interval: 50 }).toBe(0);
  });
});
