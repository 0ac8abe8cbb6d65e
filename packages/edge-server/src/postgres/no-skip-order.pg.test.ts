import {
  ANY,
  newKsuid,
  readServerSentEvents,
  type StoredEvent,
  SubscriptionMessageSchema,
} from '@strata/core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  createTestDatabase,
  type Pool,
  type TestDatabase,
} from '../../../../tooling/postgres/neon.ts';
import { singleTenant } from '../app/auth.ts';
import { createSyncApp } from '../app/create-sync-app.ts';
import { migrate } from '../migrations/migrations.ts';
import { neonListen } from '../subscriptions/listen-source.ts';
import { neonDatabase } from './neon-database.ts';
import { createPostgresEventStore } from './postgres-event-store.ts';

let database: TestDatabase;
let pool: Pool;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = database.createPool({ max: 12 });
  await migrate(neonDatabase(pool));
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('the global order never skips a late-committed event', () => {
  it('8 writers on 10 aggregates, some holding their transaction open, and a paging reader', async () => {
    const store = createPostgresEventStore(neonDatabase(pool), { tenant: 'race' });
    const app = createSyncApp({
      database: neonDatabase(pool),
      authenticate: singleTenant('race'),
      listen: neonListen(() => database.createClient()),
      pollIntervalMs: 60_000,
    });
    onTestFinished(() => app.close());
    const WRITERS = 8;
    const APPENDS_PER_WRITER = 12;
    let writing = true;
    const commitOrder: number[] = [];

    const writers = Array.from({ length: WRITERS }, async (_, writer) => {
      const written: string[] = [];
      for (let i = 0; i < APPENDS_PER_WRITER; i++) {
        const aggregateId = `agg-${(writer * 7 + i) % 10}`;
        const events = Array.from({ length: 1 + (i % 3) }, () => ({
          id: newKsuid(),
          type: 'Raced',
          schemaVersion: 1,
          occurredAt: new Date().toISOString(),
          data: { writer, i },
          metadata: {},
        }));
        // Every third append keeps its transaction open after its positions were assigned, so
        // later transactions commit higher positions first.
        const holdMs = i % 3 === 0 ? 40 + ((writer * 13) % 60) : 0;
        const result = await store.append({ aggregateType: 'Race', aggregateId }, events, {
          expectedVersion: ANY,
          ...(holdMs > 0 ? { beforeCommit: () => sleep(holdMs) } : {}),
        });
        written.push(...result.events.map((event) => event.id));
        commitOrder.push(...result.events.map((event) => event.position));
      }
      return written;
    });

    // A subscriber streams the same order over SSE from a sync app on the same database, woken by
    // NOTIFY (the writers bypass the app, so nothing else tells it).
    const subscription = new AbortController();
    const total = WRITERS * APPENDS_PER_WRITER * 2; // appends carry 1, 2, 3, 1, 2, 3... events: 2 on average
    const subscriber = (async () => {
      const response = await app.request('/v1/subscribe', { signal: subscription.signal });
      const events: StoredEvent[] = [];
      for await (const { data } of readServerSentEvents(
        response.body as ReadableStream<Uint8Array>,
      )) {
        const message = SubscriptionMessageSchema.parse(JSON.parse(data));
        if (message.kind === 'event') events.push(message.event);
        if (events.length === total) return events;
      }
      return events;
    })();

    const seen: StoredEvent[] = [];
    const cursors: string[] = [];
    const reader = (async () => {
      let cursor: string | undefined;
      for (;;) {
        const stillWriting = writing;
        const page = await store.readAll({
          ...(cursor === undefined ? {} : { after: cursor }),
          limit: 7,
        });
        seen.push(...page.events);
        cursors.push(
          ...page.events.map((event) => (event as StoredEvent & { cursor: string }).cursor),
        );
        cursor = page.cursor;
        if (!stillWriting && !page.hasMore) return;
        if (page.events.length === 0) await sleep(5);
      }
    })();

    const written = (await Promise.all(writers)).flat();
    writing = false;
    await reader;
    const streamed = await subscriber;
    subscription.abort();
    expect(streamed.map((event) => event.id)).toEqual(seen.map((event) => event.id));

    const seenIds = seen.map((event) => event.id);
    expect(new Set(seenIds).size).toBe(seenIds.length); // exactly once
    expect([...seenIds].sort()).toEqual([...written].sort()); // none missing
    // Cursor order is the order delivered.
    const keys = cursors.map((cursor) => cursor.split('.').map(BigInt) as [bigint, bigint]);
    const ascending = keys.every(([tx, position], i) => {
      const [previousTx, previousPosition] = keys[i - 1] ?? [-1n, -1n];
      return previousTx < tx || (previousTx === tx && previousPosition < position);
    });
    expect(ascending).toBe(true);
    // The race really happened: some events committed after events with higher positions.
    expect(commitOrder.some((position, i) => position < Math.max(...commitOrder.slice(0, i)))).toBe(
      true,
    );
    // Per aggregate, versions are 1..n with none duplicated or missing.
    const byAggregate = new Map<string, number[]>();
    for (const event of seen)
      byAggregate.set(event.aggregateId, [
        ...(byAggregate.get(event.aggregateId) ?? []),
        event.version,
      ]);
    for (const versions of byAggregate.values()) {
      expect([...versions].sort((a, b) => a - b)).toEqual(
        Array.from({ length: versions.length }, (_, i) => i + 1),
      );
    }
  });
});
