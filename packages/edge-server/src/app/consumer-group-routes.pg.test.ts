import { createTestDatabase, type Pool, type TestDatabase } from '@strata/tooling/postgres/neon';
import { bearerToken } from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendNotes } from '../../test/fixtures/consumer-groups/group-scenario.ts';
import { migrate } from '../migrations/migrations.ts';
import { neonDatabase } from '../postgres/neon-database.ts';
import { createPostgresEventStore } from '../postgres/postgres-event-store.ts';
import { jwtAuthentication } from './auth.ts';
import { createSyncApp, type SyncApp } from './create-sync-app.ts';

const SECRET = 'consumer-group-routes-pg-secret';
let database: TestDatabase;
let pool: Pool;
let app: SyncApp;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = database.createPool({ max: 10 });
  await migrate(neonDatabase(pool));
  app = createSyncApp({
    database: neonDatabase(pool),
    authenticate: jwtAuthentication({ secret: SECRET }),
    onError: () => undefined,
  });
});

afterAll(async () => {
  await app?.close();
  await pool?.end();
  await database?.drop();
});

interface WireBatch {
  partition: number;
  from: string;
  until: string;
  events: { id: string; aggregateId: string; version: number }[];
}

describe('consumer groups over HTTP on Postgres', () => {
  it('share a tenant’s events between competing HTTP consumers, each event acked once, in order', async () => {
    const token = await bearerToken(SECRET, 'http-tenant');
    const post = async (path: string, body: unknown) => {
      const response = await app.request(path, {
        method: path.endsWith('/groups/work') ? 'PUT' : 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status, path).toBe(200);
      return (await response.json()) as Record<string, unknown>;
    };
    const written = await appendNotes(
      createPostgresEventStore(neonDatabase(pool), { tenant: 'http-tenant' }) as never,
      12,
      5,
    );
    await appendNotes(
      createPostgresEventStore(neonDatabase(pool), { tenant: 'someone-else' }) as never,
      3,
      2,
    );
    await post('/v1/groups/work', { partitions: 8 });

    const handled: { consumer: string; id: string; aggregateId: string; version: number }[] = [];
    const consume = async (consumerId: string) => {
      const deadline = Date.now() + 20_000;
      while (new Set(handled.map((entry) => entry.id)).size < written.length) {
        if (Date.now() > deadline) throw new Error('not drained');
        const claim = await post('/v1/groups/work/claim', { consumerId, limit: 10 });
        const batches = claim.partitions as WireBatch[];
        for (const batch of batches) {
          for (const event of batch.events) handled.push({ consumer: consumerId, ...event });
        }
        const ack = await post('/v1/groups/work/ack', {
          consumerId,
          partitions: batches.map(({ partition, from, until }) => ({ partition, from, to: until })),
        });
        expect(ack.lost).toEqual([]);
        if (batches.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    await Promise.all([consume('h1'), consume('h2')]);

    expect(handled.map((entry) => entry.id).sort()).toEqual(
      written.map((event) => event.id).sort(),
    );
    expect(new Set(handled.map((entry) => entry.consumer))).toEqual(new Set(['h1', 'h2']));
    const seen = new Set<string>();
    for (const entry of handled) {
      if (entry.version > 1)
        expect(seen.has(`${entry.aggregateId}/${entry.version - 1}`)).toBe(true);
      seen.add(`${entry.aggregateId}/${entry.version}`);
    }
    const response = await app.request('/v1/groups/work', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await response.json()).toMatchObject({ lag: 0, parked: 0 });
  });
});
