import { newKsuid, type SubscriptionMessage } from '@strata/core';
import { createTestDatabase, type TestDatabase, testPostgres } from '@strata/tooling/postgres/neon';
import {
  bearerToken,
  commit,
  type Subscription,
  type SyncClient,
  syncClient,
  todoEvent,
} from '@strata/tooling/sync/sync-client';
import { runInWorkerd, type WorkerdHandle } from '@strata/tooling/workerd/run-in-workerd';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../migrations/migrations.ts';
import { neonDatabase } from '../postgres/neon-database.ts';

// What a subscription costs on Workers (docs/production.md, "Workers"), measured in real
// workerd with the deployed defaults (1 s polling): each open subscriber holds a Postgres
// connection of its own for as long as it is open, and a live event reaches it only at its next
// poll, so the delay from a push's answer to the event at the subscriber spreads over the poll
// interval (a push on Workers wakes no other request's subscription: no LISTEN, no shared feed).
const SECRET = 'workerd-cost-secret';
const SUBSCRIBERS = 4;
const PUSHES = 8;
let db: TestDatabase;
let worker: WorkerdHandle;
let client: SyncClient;

beforeAll(async () => {
  db = await createTestDatabase('strata_workerd_cost');
  const pool = db.createPool();
  try {
    await migrate(neonDatabase(pool));
  } finally {
    await pool.end();
  }
  worker = await runInWorkerd({
    entry: new URL('../../test/fixtures/runtimes/default-poll-worker.ts', import.meta.url),
    compatibilityFlags: ['enable_request_signal'],
    bindings: {
      DATABASE_URL: db.url,
      JWT_SECRET: SECRET,
      NEON_WS_PROXY: `127.0.0.1:${testPostgres().wsProxyPort}`,
    },
  });
  client = syncClient((path, init) => worker.fetch(path, init), {
    token: await bearerToken(SECRET, 'tenant-cost'),
  });
});

afterAll(async () => {
  await worker?.dispose();
  await db?.drop();
});

const PROBE = 'strata-cost-probe';
async function connections(): Promise<number> {
  const pool = db.createPool({ max: 1, application_name: PROBE });
  try {
    const { rows } = await pool.query<{ count: string }>(
      `SELECT count(*) AS count FROM pg_stat_activity
       WHERE datname = $1 AND application_name IS DISTINCT FROM $2`,
      [db.name, PROBE],
    );
    return Number(rows[0]?.count);
  } finally {
    await pool.end();
  }
}

const eventIds = (messages: readonly SubscriptionMessage[]) =>
  messages.flatMap((message) => (message.kind === 'event' ? [message.event.id] : []));

describe('a subscription on Workers (default 1 s polling)', () => {
  it('holds one Postgres connection per open subscriber, and live events wait for the next poll', async () => {
    const subscriptions: Subscription[] = [];
    for (let i = 0; i < SUBSCRIBERS; i++)
      subscriptions.push(await client.subscribe(undefined, 'now'));
    // Idle subscribers: each keeps its request's pool, and the pool its connection, between polls.
    await expect.poll(connections, { timeout: 10_000, interval: 200 }).toBe(SUBSCRIBERS);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await connections()).toBe(SUBSCRIBERS);

    const first = subscriptions[0] as Subscription;
    const delays: number[] = [];
    for (let i = 0; i < PUSHES; i++) {
      // Pushes at offsets that do not line up with the poll.
      await new Promise((resolve) => setTimeout(resolve, 150 + ((i * 370) % 1000)));
      const event = todoEvent(newKsuid(), 1);
      const pushed = await client.push(commit(newKsuid(), event));
      expect(pushed.results.map((result) => result.status)).toEqual(['accepted']);
      const answered = performance.now();
      await first.next((messages) => eventIds(messages).includes(event.id));
      delays.push(performance.now() - answered);
    }
    delays.sort((a, b) => a - b);
    const median = delays[Math.floor(delays.length / 2)] as number;
    console.log(
      `[workers subscription] delay from push answer to delivery over ${PUSHES} pushes: ` +
        `min ${delays[0]?.toFixed(0)} ms, median ${median.toFixed(0)} ms, max ${delays.at(-1)?.toFixed(0)} ms`,
    );
    // Within one poll interval and a query, and not immediate: the push woke nothing.
    expect(delays.at(-1)).toBeLessThan(1_600);
    expect(median).toBeGreaterThan(100);
    // Every subscriber got every event once.
    const all = subscriptions
      .slice(1)
      .map((subscription) => subscription.next((m) => eventIds(m).length >= PUSHES));
    for (const messages of await Promise.all(all)) expect(eventIds(messages)).toHaveLength(PUSHES);

    for (const subscription of subscriptions) subscription.close();
    // And the connections go with them.
    await expect.poll(connections, { timeout: 20_000, interval: 200 }).toBe(0);
  });
});
