import {
  newKsuid,
  readServerSentEvents,
  type SubscriptionMessage,
  SubscriptionMessageSchema,
} from '@strata/core';
import { createTestDatabase, type Pool, type TestDatabase } from '@strata/tooling/postgres/neon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { singleTenant } from '../app/auth.ts';
import { createSyncApp, type SyncApp } from '../app/create-sync-app.ts';
import { migrate } from '../migrations/migrations.ts';
import { neonDatabase } from '../postgres/neon-database.ts';
import { neonListen } from './listen-source.ts';

// Three server instances on one Postgres, each with its own pool, reader and LISTEN connection.
// Polling is set to a minute: only NOTIFY can carry an event to the other instances in time.
let database: TestDatabase;
const pools: Pool[] = [];
const instances: SyncApp[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  for (let i = 0; i < 3; i++) {
    const pool = database.createPool({ max: 4 });
    pools.push(pool);
    instances.push(
      createSyncApp({
        database: neonDatabase(pool),
        authenticate: singleTenant('shared'),
        listen: neonListen(() => database.createClient()),
        pollIntervalMs: 60_000,
        heartbeatMs: 60_000,
      }),
    );
  }
  await migrate(neonDatabase(pools[0] as Pool));
});

afterAll(async () => {
  await Promise.all(instances.map((instance) => instance.close()));
  await Promise.all(pools.map((pool) => pool.end()));
  await database?.drop();
});

describe('three instances on one Postgres', () => {
  it('subscribers on each receive every event written through any of them, in the same order', async () => {
    const streams = await Promise.all(
      instances.map(async (instance) => {
        const controller = new AbortController();
        const response = await instance.request('/v1/subscribe', { signal: controller.signal });
        return {
          controller,
          messages: readServerSentEvents(response.body as ReadableStream<Uint8Array>),
        };
      }),
    );
    const received: string[][] = [[], [], []];
    const collectors = streams.map(async ({ messages }, index) => {
      for await (const { data } of messages) {
        const message: SubscriptionMessage = SubscriptionMessageSchema.parse(JSON.parse(data));
        if (message.kind === 'event') received[index]?.push(message.event.id);
        if (received[index]?.length === 30) return;
      }
    });

    const written: string[] = [];
    for (let i = 0; i < 30; i++) {
      const id = newKsuid();
      written.push(id);
      const instance = instances[i % 3] as SyncApp;
      const response = await instance.request('/v1/push', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          clientId: `client-${i % 3}`,
          commits: [
            {
              commitId: `c${i}`,
              events: [
                {
                  id,
                  type: 'Noted',
                  schemaVersion: 1,
                  aggregateType: 'Note',
                  aggregateId: `note-${i % 4}`,
                  version: Math.floor(i / 4) + 1,
                  occurredAt: '2026-11-22T10:00:00.000Z',
                  data: { i },
                  metadata: {},
                },
              ],
            },
          ],
        }),
      });
      expect(response.status).toBe(200);
    }

    await Promise.race([
      Promise.all(collectors),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`timed out: ${received.map((r) => r.length)}`)), 15_000),
      ),
    ]);
    for (const stream of streams) stream.controller.abort();
    expect(received[0]).toHaveLength(30);
    expect(received[1]).toEqual(received[0]);
    expect(received[2]).toEqual(received[0]);
    expect([...(received[0] ?? [])].sort()).toEqual([...written].sort());
  });
});
