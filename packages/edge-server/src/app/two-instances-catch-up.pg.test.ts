import { newKsuid, type PullResponse } from '@strata/core';
import { createTestDatabase, type Pool, type TestDatabase } from '@strata/tooling/postgres/neon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../migrations/migrations.ts';
import { neonDatabase } from '../postgres/neon-database.ts';
import { neonListen } from '../subscriptions/listen-source.ts';
import { singleTenant } from './auth.ts';
import { createSyncApp, type SyncApp } from './create-sync-app.ts';

// Several stateless instances (docs/production.md, scale plan): two server instances on one
// Postgres, each with its own pool, take concurrent pushes of one tenant while a catch-up reader
// pages through GET /v1/pull, alternating instances, small pages. The log the reader assembles
// is every pushed event exactly once, in the tenant's order, with no position skipped, and is
// the order Postgres holds.
const WRITERS_PER_INSTANCE = 3;
const PUSHES_PER_WRITER = 12;
let database: TestDatabase;
const pools: Pool[] = [];
const instances: SyncApp[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  for (let i = 0; i < 2; i++) {
    const pool = database.createPool({ max: 4 });
    pools.push(pool);
    instances.push(
      createSyncApp({
        database: neonDatabase(pool),
        authenticate: singleTenant('shared'),
        listen: neonListen(() => database.createClient()),
        rateLimits: false,
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

/** One push of one commit with 1–3 events on a new aggregate; returns the event ids. */
async function push(instance: SyncApp, writer: string, n: number): Promise<string[]> {
  const aggregateId = `${writer}-${n}`;
  const ids = Array.from({ length: 1 + (n % 3) }, () => newKsuid());
  const response = await instance.request('/v1/push', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      clientId: writer,
      commits: [
        {
          commitId: newKsuid(),
          events: ids.map((id, index) => ({
            id,
            type: 'Noted',
            schemaVersion: 1,
            aggregateType: 'Note',
            aggregateId,
            version: index + 1,
            occurredAt: '2026-12-03T10:00:00.000Z',
            data: { n, index },
            metadata: {},
          })),
        },
      ],
    }),
  });
  expect(response.status).toBe(200);
  const { results } = (await response.json()) as { results: { status: string }[] };
  expect(results.map((result) => result.status)).toEqual(['accepted']);
  return ids;
}

describe('two stateless instances on one Postgres', () => {
  it('a catch-up reader paging through both sees every event pushed through either exactly once, in order', async () => {
    const pushed: string[] = [];
    let writing = true;
    const writers = instances.flatMap((instance, i) =>
      Array.from({ length: WRITERS_PER_INSTANCE }, async (_, w) => {
        for (let n = 0; n < PUSHES_PER_WRITER; n++) {
          pushed.push(...(await push(instance, `writer-${i}-${w}`, n)));
        }
      }),
    );
    const allWritten = Promise.all(writers).finally(() => {
      writing = false;
    });

    const read: PullResponse['events'] = [];
    let cursor: string | undefined;
    let pages = 0;
    let pagesWhileWriting = 0;
    // Reads while the writers write, then on to the end once they are done.
    for (;;) {
      const finished = !writing;
      if (!finished) pagesWhileWriting++;
      const instance = instances[pages++ % 2] as SyncApp;
      const query = new URLSearchParams({
        limit: '5',
        ...(cursor === undefined ? {} : { after: cursor }),
      });
      const response = await instance.request(`/v1/pull?${query}`);
      expect(response.status).toBe(200);
      const page = (await response.json()) as PullResponse;
      read.push(...page.events);
      cursor = page.cursor;
      if (finished && !page.hasMore) break;
    }
    await allWritten;

    const total = instances.length * WRITERS_PER_INSTANCE * PUSHES_PER_WRITER * 2; // 1–3 events, 2 on average
    expect(pushed).toHaveLength(total);
    expect(pagesWhileWriting).toBeGreaterThan(1); // it read while they wrote
    const ids = read.map((event) => event.id);
    expect(new Set(ids).size).toBe(ids.length); // exactly once
    expect([...ids].sort()).toEqual([...pushed].sort()); // every one
    // The tenant's positions, dense from 1: nothing skipped, nothing out of order.
    expect(read.map((event) => event.position)).toEqual(
      Array.from({ length: total }, (_, index) => index + 1),
    );
    // Each aggregate's events in their version order, as pushed.
    const versions = new Map<string, number>();
    for (const event of read) {
      expect(event.version).toBe((versions.get(event.aggregateId) ?? 0) + 1);
      versions.set(event.aggregateId, event.version);
    }
    // The order Postgres holds.
    const { rows } = await (pools[0] as Pool).query<{ id: string }>(
      "SELECT id FROM strata_events WHERE tenant = 'shared' ORDER BY tenant_position",
    );
    expect(rows.map((row) => row.id)).toEqual(ids);
  });
});
