import { PROBLEM_JSON } from '@strata/core';
import { bearerToken, commit, todoEvent } from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import { jwtAuthentication } from './auth.ts';
import { createSyncApp, type SyncApp } from './create-sync-app.ts';

const SECRET = 'consumer-group-routes-secret';
const pglite = useMigratedPglite();
let app: SyncApp;
let tokenA: string;
let tokenB: string;

beforeAll(async () => {
  app = createSyncApp({
    database: pgliteDatabase(pglite()),
    authenticate: jwtAuthentication({ secret: SECRET }),
    onError: () => undefined,
  });
  tokenA = await bearerToken(SECRET, 'tenant-a');
  tokenB = await bearerToken(SECRET, 'tenant-b');
});
afterAll(() => app?.close());

interface Reply {
  status: number;
  type: string | null;
  body: Record<string, unknown>;
}
async function call(token: string | undefined, method: string, path: string, body?: unknown) {
  const response = await app.request(path, {
    method,
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: (await response.json()) as Record<string, unknown>,
  } satisfies Reply;
}

type Event = ReturnType<typeof todoEvent>;

interface WireBatch {
  partition: number;
  from: string;
  until: string;
  attempts: number;
  events: { id: string; aggregateId: string; version: number; cursor: string }[];
}

describe('consumer groups over HTTP', () => {
  it('are authenticated, scoped to the tenant, validated, and claim/ack/nack/park/replay', async () => {
    const [t1v1, t1v2, t2v1, t3v1] = [1, 2, 1, 1].map((version, index) =>
      todoEvent(['t1', 't1', 't2', 't3'][index] as string, version),
    ) as [Event, Event, Event, Event];
    const pushed = [t1v1, t1v2, t2v1, t3v1];
    expect(
      (
        await call(tokenA, 'POST', '/v1/push', {
          clientId: 'c',
          commits: [commit('a', t1v1, t1v2), commit('b', t2v1), commit('c', t3v1)],
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await call(tokenB, 'POST', '/v1/push', {
          clientId: 'c',
          commits: [commit('x', todoEvent('other', 1))],
        })
      ).status,
    ).toBe(200);

    expect((await call(undefined, 'GET', '/v1/groups/jobs')).status).toBe(401);
    const missing = await call(tokenA, 'POST', '/v1/groups/jobs/claim', { consumerId: 'w1' });
    expect(missing).toMatchObject({ status: 404, type: PROBLEM_JSON });

    const created = await call(tokenA, 'PUT', '/v1/groups/jobs', {
      partitions: 2,
      maxAttempts: 2,
      retryBaseMs: 0,
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      name: 'jobs',
      lag: 4,
      parked: 0,
      // The wire's flat names for the group's backoff: retryBaseMs given, retryMaxMs defaulted.
      settings: { partitions: 2, maxAttempts: 2, retryBaseMs: 0, retryMaxMs: 30_000 },
    });
    expect(created.body).not.toHaveProperty('tenant');
    // Another tenant's group of the same name is another group.
    expect((await call(tokenB, 'GET', '/v1/groups/jobs')).status).toBe(404);

    const bad = await call(tokenA, 'POST', '/v1/groups/jobs/claim', { consumerId: '', limit: 0 });
    expect(bad).toMatchObject({
      status: 400,
      type: PROBLEM_JSON,
      body: { code: 'VALIDATION_FAILED' },
    });
    expect(
      (
        await call(tokenA, 'POST', '/v1/groups/jobs/ack', {
          consumerId: 'w1',
          partitions: [{ partition: 0, from: 'nope', to: '1.1' }],
        })
      ).body,
    ).toMatchObject({ code: 'INVALID_CURSOR' });
    expect((await call(tokenA, 'PUT', '/v1/groups/bad%20name', {})).status).toBe(400);

    const claim = await call(tokenA, 'POST', '/v1/groups/jobs/claim', { consumerId: 'w1' });
    expect(claim.status).toBe(200);
    expect(claim.body.owned).toEqual([0, 1]);
    const batches = claim.body.partitions as WireBatch[];
    const claimed = batches.flatMap((batch) => batch.events.map((event) => event.id));
    expect(claimed.sort()).toEqual(pushed.map((event) => event.id).sort());
    // One aggregate, one partition, in version order.
    const t1 = batches.find((batch) => batch.events.some((event) => event.aggregateId === 't1'));
    expect(
      t1?.events.filter((event) => event.aggregateId === 't1').map((event) => event.version),
    ).toEqual([1, 2]);

    // t1's first event fails twice (maxAttempts 2): retried, then parked; the rest is acked.
    const failing = t1?.events.find((event) => event.aggregateId === 't1' && event.version === 1);
    const nack = {
      consumerId: 'w1',
      partition: t1?.partition,
      from: t1?.from,
      eventId: failing?.id,
      error: 'smtp down',
    };
    expect((await call(tokenA, 'POST', '/v1/groups/jobs/nack', nack)).body).toMatchObject({
      outcome: 'retry',
      attempts: 1,
    });
    expect(
      (await call(tokenA, 'POST', '/v1/groups/jobs/nack', { ...nack, consumerId: 'w2' })).body,
    ).toEqual({ outcome: 'lost' });
    const again = await call(tokenA, 'POST', '/v1/groups/jobs/claim', { consumerId: 'w1' });
    const retried = (again.body.partitions as WireBatch[]).find(
      (batch) => batch.partition === t1?.partition,
    );
    expect(retried?.attempts).toBe(1);
    expect(retried?.events[0]?.id).toBe(failing?.id);
    expect((await call(tokenA, 'POST', '/v1/groups/jobs/nack', nack)).body).toMatchObject({
      outcome: 'parked',
      attempts: 2,
    });

    const rest = await call(tokenA, 'POST', '/v1/groups/jobs/claim', { consumerId: 'w1' });
    const restBatches = rest.body.partitions as WireBatch[];
    expect(restBatches.flatMap((batch) => batch.events.map((event) => event.id)).sort()).toEqual(
      claimed.filter((id) => id !== failing?.id).sort(),
    );
    const acked = await call(tokenA, 'POST', '/v1/groups/jobs/ack', {
      consumerId: 'w1',
      partitions: restBatches.map(({ partition, from, until }) => ({ partition, from, to: until })),
    });
    expect(acked.body).toMatchObject({ lost: [] });
    expect((await call(tokenA, 'GET', '/v1/groups/jobs')).body).toMatchObject({
      lag: 0,
      parked: 1,
    });

    const parked = await call(tokenA, 'GET', '/v1/groups/jobs/parked');
    const [entry] = parked.body.parked as {
      id: string;
      error: string;
      attempts: number;
      event: { id: string };
    }[];
    expect(entry).toMatchObject({ error: 'smtp down', attempts: 2, event: { id: failing?.id } });
    expect((await call(tokenB, 'GET', '/v1/groups/jobs/parked')).status).toBe(404);
    expect((await call(tokenA, 'POST', '/v1/groups/jobs/parked/999999/replay')).status).toBe(404);
    expect((await call(tokenA, 'POST', `/v1/groups/jobs/parked/${entry?.id}/replay`)).body).toEqual(
      { queued: true },
    );

    const replay = await call(tokenA, 'POST', '/v1/groups/jobs/claim', { consumerId: 'w1' });
    expect(replay.body.partitions).toEqual([]);
    const replays = replay.body.replays as { parkedId: string; event: { id: string } }[];
    expect(replays.map((r) => [r.parkedId, r.event.id])).toEqual([[entry?.id, failing?.id]]);
    expect(
      (
        await call(tokenA, 'POST', '/v1/groups/jobs/ack', {
          consumerId: 'w1',
          replays: [entry?.id],
        })
      ).body,
    ).toMatchObject({ replaysAcked: [entry?.id] });
    expect((await call(tokenA, 'GET', '/v1/groups/jobs/parked')).body).toEqual({ parked: [] });

    expect((await call(tokenA, 'POST', '/v1/groups/jobs/leave', { consumerId: 'w1' })).status).toBe(
      200,
    );
    const status = await call(tokenA, 'GET', '/v1/groups/jobs');
    expect(status.body).toMatchObject({ consumers: [], lag: 0, parked: 0, queued: 0 });
  });
});

describe('consumer groups over HTTP with narrowed reads', () => {
  it('a failing event after an unreadable one is nacked with its `previous` cursor', async () => {
    const narrowed = createSyncApp({
      database: pgliteDatabase(pglite()),
      authenticate: jwtAuthentication({ secret: SECRET }),
      authorize: { canRead: (_principal, event) => event.type !== 'TodoRenamed' },
      onError: () => undefined,
    });
    try {
      const token = await bearerToken(SECRET, 'tenant-narrow');
      const request = async (method: string, path: string, body?: unknown) => {
        const response = await narrowed.request(path, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return (await response.json()) as Record<string, unknown>;
      };
      const renamed = todoEvent('n1', 2, 'TodoRenamed', { title: 'secret' });
      const completed = todoEvent('n1', 3);
      await request('POST', '/v1/push', {
        clientId: 'c',
        commits: [commit('a', todoEvent('n1', 1)), commit('r', renamed), commit('d', completed)],
      });
      await request('PUT', '/v1/groups/narrow', { partitions: 1, maxAttempts: 3 });
      const claim = await request('POST', '/v1/groups/narrow/claim', { consumerId: 'w' });
      const [batch] = claim.partitions as (WireBatch & {
        events: (WireBatch['events'][number] & { previous: string })[];
      })[];
      expect(batch?.events.map((event) => event.version)).toEqual([1, 3]); // 2 is not readable
      const [added, done] = batch?.events ?? [];
      expect(done?.previous).not.toBe(added?.cursor); // the unreadable rename lies between
      const nack = await request('POST', '/v1/groups/narrow/nack', {
        consumerId: 'w',
        partition: batch?.partition,
        from: batch?.from,
        to: done?.previous,
        eventId: done?.id,
        error: 'failed',
      });
      expect(nack).toMatchObject({ outcome: 'retry', attempts: 1 });
    } finally {
      await narrowed.close();
    }
  });
});
