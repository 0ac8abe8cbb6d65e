/**
 * Consumer groups over HTTP hand out and take tenant cursors only (issue 12, item 11): nothing a
 * principal sees tells it how much other tenants write, and a cursor it makes up moves nothing.
 * On Postgres through the Neon driver; the database is read afterwards, not only the answers.
 */

import { createTestDatabase, type Pool, type TestDatabase } from '@strata/tooling/postgres/neon';
import { bearerToken, commit, todoEvent } from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../migrations/migrations.ts';
import { neonDatabase } from '../postgres/neon-database.ts';
import { jwtAuthentication } from './auth.ts';
import { createSyncApp, type SyncApp } from './create-sync-app.ts';

const SECRET = 'consumer-group-cursors-secret';
let database: TestDatabase;
let pool: Pool;
let app: SyncApp;
let token: string;
let otherToken: string;

interface WireEvent {
  id: string;
  position: number;
  cursor: string;
  previous: string;
}
interface WireBatch {
  partition: number;
  from: string;
  until: string;
  events: WireEvent[];
}

async function call(method: string, path: string, body?: unknown, bearer = token) {
  const response = await app.request(path, {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The stored checkpoint of each partition of the tenant's group, as `<xid>.<position>`. */
async function storedCheckpoints(group: string): Promise<string[]> {
  const { rows } = await pool.query(
    `SELECT p.checkpoint_transaction_id::text || '.' || p.checkpoint_position AS checkpoint
     FROM strata_consumer_group_partitions p JOIN strata_consumer_groups g ON g.id = p.group_id
     WHERE g.name = $1 AND g.tenant = 'cursor-tenant' ORDER BY p.partition`,
    [group],
  );
  return rows.map((row: { checkpoint: string }) => row.checkpoint);
}

/** The global place of the tenant's n-th event. */
async function globalPlaceOf(tenantPosition: number): Promise<string> {
  const { rows } = await pool.query(
    `SELECT transaction_id::text || '.' || position AS place FROM strata_events
     WHERE tenant = 'cursor-tenant' AND tenant_position = $1`,
    [tenantPosition],
  );
  return (rows[0] as { place: string }).place;
}

async function push(bearer: string, ...aggregates: string[]) {
  const commits = aggregates.map((id) => commit(`c-${id}`, todoEvent(id, 1)));
  const response = await call('POST', '/v1/push', { clientId: 'c', commits }, bearer);
  expect(response.status).toBe(200);
}

const GLOBAL_FORM = /"\d+\.\d+"/;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = database.createPool({ max: 4 });
  await migrate(neonDatabase(pool));
  app = createSyncApp({
    database: neonDatabase(pool),
    authenticate: jwtAuthentication({ secret: SECRET }),
    onError: () => undefined,
  });
  token = await bearerToken(SECRET, 'cursor-tenant');
  otherToken = await bearerToken(SECRET, 'busy-tenant');
  // The tenant's six events interleaved with forty of a busier tenant, so their global places
  // are far apart while their tenant cursors are t1..t6.
  for (let round = 0; round < 3; round += 1) {
    await push(token, `a${round}`, `b${round}`);
    await push(otherToken, ...Array.from({ length: 20 }, (_, index) => `x${round}-${index}`));
  }
});

afterAll(async () => {
  await app?.close();
  await pool?.end();
  await database?.drop();
});

describe('consumer-group cursors over HTTP', () => {
  it('hands out the tenant’s dense cursors only, and acking one stores the event’s global place', async () => {
    expect((await call('PUT', '/v1/groups/one', { partitions: 1 })).status).toBe(200);
    const claim = await call('POST', '/v1/groups/one/claim', { consumerId: 'w', limit: 4 });
    expect(claim.status).toBe(200);
    expect(JSON.stringify(claim.body)).not.toMatch(GLOBAL_FORM);
    const [batch] = claim.body.partitions as WireBatch[];
    expect(batch).toMatchObject({ partition: 0, from: 't0', until: 't4' });
    expect(batch?.events.map((event) => [event.cursor, event.previous, event.position])).toEqual([
      ['t1', 't0', 1],
      ['t2', 't1', 2],
      ['t3', 't2', 3],
      ['t4', 't3', 4],
    ]);

    const acked = await call('POST', '/v1/groups/one/ack', {
      consumerId: 'w',
      partitions: [{ partition: 0, from: 't0', to: 't4' }],
    });
    expect(acked.body).toMatchObject({ acked: [0], lost: [] });
    expect(await storedCheckpoints('one')).toEqual([await globalPlaceOf(4)]);
    const status = await call('GET', '/v1/groups/one');
    expect(JSON.stringify(status.body)).not.toMatch(GLOBAL_FORM);
    expect(status.body).toMatchObject({ lag: 2, partitions: [{ partition: 0, checkpoint: 't4' }] });

    const next = await call('POST', '/v1/groups/one/claim', { consumerId: 'w' });
    expect((next.body.partitions as WireBatch[])[0]).toMatchObject({ from: 't4', until: 't6' });
  });

  it('refuses global, made-up and foreign cursors, and moves no checkpoint for them', async () => {
    expect((await call('PUT', '/v1/groups/hostile', { partitions: 1 })).status).toBe(200);
    const before = await storedCheckpoints('hostile');
    const ack = (from: string, to: string) =>
      call('POST', '/v1/groups/hostile/ack', {
        consumerId: 'w',
        partitions: [{ partition: 0, from, to }],
      });
    await call('POST', '/v1/groups/hostile/claim', { consumerId: 'w' });

    // A global place, even the true one of the tenant's event: clients never speak that form.
    const place = await globalPlaceOf(2);
    for (const [from, to, code] of [
      ['t0', place, 'INVALID_CURSOR'],
      ['0.0', 't2', 'INVALID_CURSOR'],
      ['t0', 't7', 'INVALID_CURSOR'], // past the tenant's end
      ['t0', 't01', 'INVALID_CURSOR'],
      ['t0', 't-1', 'INVALID_CURSOR'],
      ['t0', '', 'VALIDATION_FAILED'], // the body's schema: a cursor is never empty
    ] as const) {
      const answer = await ack(from, to);
      expect([answer.status, answer.body.code], `${from} → ${to}`).toEqual([400, code]);
    }
    // A stale `from` (not the checkpoint) is lost, as a stale consumer's ack is.
    expect((await ack('t3', 't5')).body).toMatchObject({ acked: [], lost: [0] });
    // An ack that does not move quotes its checkpoint twice.
    expect((await ack('t0', 't0')).body).toMatchObject({ acked: [0] });
    expect(await storedCheckpoints('hostile')).toEqual(before);

    // Nothing any tenant-cursor call did moved the other tenant's groups or events.
    const { rows } = await pool.query(
      "SELECT count(*)::int AS n FROM strata_events WHERE tenant = 'busy-tenant'",
    );
    expect(rows[0]).toEqual({ n: 60 });
  });

  it('moves no checkpoint to an event of another partition', async () => {
    expect((await call('PUT', '/v1/groups/split', { partitions: 2 })).status).toBe(200);
    const claim = await call('POST', '/v1/groups/split/claim', { consumerId: 'w' });
    const batches = claim.body.partitions as WireBatch[];
    expect(batches.map((batch) => batch.partition)).toEqual([0, 1]);
    const foreign = batches[1]?.until as string;
    const answer = await call('POST', '/v1/groups/split/ack', {
      consumerId: 'w',
      partitions: [{ partition: 0, from: 't0', to: foreign }],
    });
    expect(answer.body).toMatchObject({ acked: [], lost: [0] });
    expect(await storedCheckpoints('split')).toEqual(['0.0', '0.0']);
  });

  it('retries and parks a failed event by its tenant cursors', async () => {
    expect(
      (await call('PUT', '/v1/groups/failing', { partitions: 1, maxAttempts: 2, retryBaseMs: 0 }))
        .status,
    ).toBe(200);
    const claim = await call('POST', '/v1/groups/failing/claim', { consumerId: 'w', limit: 3 });
    const [batch] = claim.body.partitions as WireBatch[];
    const third = batch?.events[2] as WireEvent;
    const nack = (from: string, to: string) =>
      call('POST', '/v1/groups/failing/nack', {
        consumerId: 'w',
        partition: 0,
        from,
        to,
        eventId: third.id,
        error: 'handler failed',
      });

    // A made-up `to` is refused before anything moves.
    expect((await nack('t0', await globalPlaceOf(2))).body).toMatchObject({
      code: 'INVALID_CURSOR',
    });
    expect(await storedCheckpoints('failing')).toEqual(['0.0']);

    expect((await nack('t0', third.previous)).body).toMatchObject({ outcome: 'retry' });
    expect(await storedCheckpoints('failing')).toEqual([await globalPlaceOf(2)]);
    // The retry's `from` is the new checkpoint and its `to` the same place: parked at attempt 2.
    expect((await nack('t2', 't2')).body).toMatchObject({ outcome: 'parked', attempts: 2 });
    expect(await storedCheckpoints('failing')).toEqual([await globalPlaceOf(3)]);

    const parked = await call('GET', '/v1/groups/failing/parked');
    expect(JSON.stringify(parked.body)).not.toMatch(GLOBAL_FORM);
    expect(parked.body.parked).toEqual([
      expect.objectContaining({ event: expect.objectContaining({ id: third.id, cursor: 't3' }) }),
    ]);
  });

  it('names a checkpoint that is no event of the tenant, and takes that name back', async () => {
    expect((await call('PUT', '/v1/groups/odd', { partitions: 1 })).status).toBe(200);
    // A checkpoint between the tenant's events (the busy tenant's last event before `t3`), as an
    // earlier server could leave one: shown as the cursor right before the next event.
    const { rows } = await pool.query(
      `SELECT transaction_id::text AS xid, position FROM strata_events
       WHERE tenant = 'busy-tenant' ORDER BY transaction_id, position LIMIT 1 OFFSET 25`,
    );
    const { xid, position } = rows[0] as { xid: string; position: string };
    await pool.query(
      `UPDATE strata_consumer_group_partitions SET checkpoint_transaction_id = $1::xid8,
         checkpoint_position = $2
       WHERE group_id = (SELECT id FROM strata_consumer_groups WHERE name = 'odd')`,
      [xid, position],
    );
    const status = await call('GET', '/v1/groups/odd');
    expect(status.body).toMatchObject({ lag: 2, partitions: [{ checkpoint: 't4' }] });
    const claim = await call('POST', '/v1/groups/odd/claim', { consumerId: 'w' });
    const [batch] = claim.body.partitions as WireBatch[];
    expect(batch).toMatchObject({ from: 't4', until: 't6' });
    expect(batch?.events.map((event) => event.cursor)).toEqual(['t5', 't6']);
    const acked = await call('POST', '/v1/groups/odd/ack', {
      consumerId: 'w',
      partitions: [{ partition: 0, from: batch?.from, to: batch?.until }],
    });
    expect(acked.body).toMatchObject({ acked: [0], lost: [] });
    expect(await storedCheckpoints('odd')).toEqual([await globalPlaceOf(6)]);
  });
});
