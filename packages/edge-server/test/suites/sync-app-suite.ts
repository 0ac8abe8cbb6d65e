import {
  defineAggregate,
  defineEvent,
  newKsuid,
  PROBLEM_JSON,
  PullResponseSchema,
  type PushResponse,
  PushResponseSchema,
} from '@strata/core';
import { Todo } from '@strata/example-todo';
import { bearerToken, todoEvent } from '@strata/tooling/sync/sync-client';
import { sign } from 'hono/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { jwtAuthentication } from '../../src/app/auth.ts';
import { createSyncApp } from '../../src/app/create-sync-app.ts';
import { migrate } from '../../src/migrations/migrations.ts';
import type { SqlDatabase } from '../../src/postgres/sql-database.ts';
import type { SuiteDatabase } from './suite-databases.ts';

/**
 * The sync app's HTTP behaviour, run against any database: PGlite in the unit tier, real
 * Postgres through the Neon driver in the pg tier.
 */
export function describeSyncApp(label: string, open: () => Promise<SuiteDatabase>): void {
  const SECRET = 'test-secret';
  let database: SqlDatabase;
  let closeDatabase: () => Promise<void>;
  let app: ReturnType<typeof createSyncApp>;

  beforeAll(async () => {
    ({ database, close: closeDatabase } = await open());
    await migrate(database);
    app = createSyncApp({
      database,
      authenticate: jwtAuthentication({ secret: SECRET }),
      aggregates: [Todo],
      // Protocol v1 (pushed events) is what this suite tests: Todo's events are stored as pushed.
      authority: { Todo: 'events' },
      limits: { maxBodyBytes: 64 * 1024, maxEventsPerPush: 50, maxEventBytes: 4 * 1024 },
      onError: () => undefined,
    });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await closeDatabase?.();
  });

  let tenants = 0;
  async function client(tenant = `tenant-${tenants++}`) {
    const token = await bearerToken(SECRET, tenant);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    return {
      push: (body: unknown) =>
        app.request('/v1/push', {
          method: 'POST',
          headers,
          body: typeof body === 'string' ? body : JSON.stringify(body),
        }),
      pull: (query = '') => app.request(`/v1/pull${query}`, { headers }),
      async pulled() {
        return PullResponseSchema.parse(
          await (await app.request('/v1/pull?limit=1000', { headers })).json(),
        ).events;
      },
    };
  }

  /** Each commit's id, status and rejection code, for one-line assertions. */
  const outcomes = (results: PushResponse['results']) =>
    results.map((result) => [result.commitId, result.status, 'code' in result ? result.code : '']);
  const push = (...commits: { commitId: string; events: unknown[] }[]) => ({
    clientId: 'client-a',
    commits,
  });

  describe(`sync app on ${label}: push and pull`, () => {
    it('answers health checks without auth', async () => {
      expect((await app.request('/healthz')).status).toBe(200);
    });

    it('answers unknown routes with a 404 problem', async () => {
      const response = await app.request('/v9/nothing');
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toBe(PROBLEM_JSON);
      expect(await response.json()).toMatchObject({ code: 'NOT_FOUND', status: 404 });
    });

    it('allows configured CORS origins only', async () => {
      const withCors = createSyncApp({
        database,
        authenticate: jwtAuthentication({ secret: SECRET }),
        corsOrigins: ['https://app.example'],
      });
      const preflight = (origin: string) =>
        withCors.request('/v1/push', {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST' },
        });
      expect(
        (await preflight('https://app.example')).headers.get('access-control-allow-origin'),
      ).toBe('https://app.example');
      expect(
        (await preflight('https://evil.example')).headers.get('access-control-allow-origin'),
      ).toBeNull();
      await withCors.close();
    });

    it('stores pushed commits and serves them in order from pull, paged by cursor', async () => {
      const a = await client();
      const events = [
        todoEvent('t1', 1),
        todoEvent('t1', 2, 'TodoCompleted', {}),
        todoEvent('t2', 1),
      ];
      const response = await a.push(
        push(
          { commitId: 'c1', events: events.slice(0, 2) },
          { commitId: 'c2', events: [events[2]] },
        ),
      );
      expect(response.status).toBe(200);
      const { results } = PushResponseSchema.parse(await response.json());
      expect(results.map((result) => [result.commitId, result.status])).toEqual([
        ['c1', 'accepted'],
        ['c2', 'accepted'],
      ]);

      const first = PullResponseSchema.parse(await (await a.pull('?limit=2')).json());
      expect(first.events.map((event) => event.id)).toEqual(
        events.slice(0, 2).map((event) => event.id),
      );
      expect(first.hasMore).toBe(true);
      const second = PullResponseSchema.parse(
        await (await a.pull(`?limit=2&after=${first.cursor}`)).json(),
      );
      expect(second.events.map((event) => event.id)).toEqual([events[2]?.id]);
      expect(second.hasMore).toBe(false);
      expect(second.events[0]?.metadata.clientId).toBe('client-a');
    });

    it('answers a re-push of stored events with their positions, storing nothing twice', async () => {
      const a = await client();
      const body = push({ commitId: 'c1', events: [todoEvent('t1', 1)] });
      const first = PushResponseSchema.parse(await (await a.push(body)).json());
      const again = PushResponseSchema.parse(await (await a.push(body)).json());
      expect(again).toEqual(first);
      expect(await a.pulled()).toHaveLength(1);
    });

    it('rejects a commit at a taken version with the current version; it blocks only its own aggregate', async () => {
      const a = await client();
      await a.push(push({ commitId: 'c0', events: [todoEvent('t1', 1)] }));
      const { results } = PushResponseSchema.parse(
        await (
          await a.push(
            push(
              { commitId: 'stale', events: [todoEvent('t1', 1)] },
              { commitId: 'after-stale', events: [todoEvent('t1', 2, 'TodoCompleted', {})] },
              { commitId: 'other', events: [todoEvent('t2', 1)] },
            ),
          )
        ).json(),
      );
      expect(results).toEqual([
        expect.objectContaining({
          commitId: 'stale',
          status: 'rejected',
          code: 'VERSION_CONFLICT',
          currentVersion: 1,
        }),
        expect.objectContaining({
          commitId: 'after-stale',
          status: 'rejected',
          code: 'VERSION_CONFLICT',
          currentVersion: 1,
        }),
        expect.objectContaining({ commitId: 'other', status: 'accepted' }),
      ]);
      expect((await a.pulled()).map((event) => [event.aggregateId, event.version])).toEqual([
        ['t1', 1],
        ['t2', 1],
      ]);
    });

    it('rejects commits the shared definitions refuse, and only those', async () => {
      const a = await client();
      const { results } = PushResponseSchema.parse(
        await (
          await a.push(
            push(
              { commitId: 'unknown-type', events: [todoEvent('t1', 1, 'TodoTeleported', {})] },
              { commitId: 'bad-data', events: [todoEvent('t2', 1, 'TodoAdded', { title: 42 })] },
              { commitId: 'fine', events: [todoEvent('t3', 1)] },
            ),
          )
        ).json(),
      );
      expect(outcomes(results)).toEqual([
        ['unknown-type', 'rejected', 'UNKNOWN_EVENT_TYPE'],
        ['bad-data', 'rejected', 'VALIDATION_FAILED'],
        ['fine', 'accepted', ''],
      ]);
      expect((await a.pulled()).map((event) => event.aggregateId)).toEqual(['t3']);
    });
  });

  describe(`sync app on ${label}: bad input is a 4xx problem, stores nothing, and the server keeps serving`, () => {
    const valid = () => push({ commitId: 'c1', events: [todoEvent('t1', 1)] });
    const cases: [string, (body: ReturnType<typeof valid>) => unknown, number, string][] = [
      ['malformed JSON', () => '{"clientId": "a", "commits": [', 400, 'VALIDATION_FAILED'],
      ['wrong types', (body) => ({ ...body, commits: 'many' }), 400, 'VALIDATION_FAILED'],
      [
        'an oversized body',
        () =>
          push({
            commitId: 'c',
            events: [{ ...todoEvent('t1', 1), data: { title: 'x'.repeat(70 * 1024) } }],
          }),
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'an oversized event',
        () =>
          push({
            commitId: 'c',
            events: [{ ...todoEvent('t1', 1), data: { title: 'x'.repeat(5 * 1024) } }],
          }),
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'too many events',
        () =>
          push(
            ...Array.from({ length: 51 }, (_, i) => ({
              commitId: `c${i}`,
              events: [todoEvent(`t${i}`, 1)],
            })),
          ),
        413,
        'PAYLOAD_TOO_LARGE',
      ],
    ];

    it.each(cases)('%s', async (_, make, status, code) => {
      const a = await client();
      const response = await a.push(make(valid()));
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toBe(PROBLEM_JSON);
      expect(await response.json()).toMatchObject({ status, code });
      expect(await a.pulled()).toEqual([]);
      expect((await app.request('/healthz')).status).toBe(200);
    });

    it.each(['abc', '-1', '1', '1.2.3', '99999999999999999999999.1'])(
      'an invalid cursor %s',
      async (cursor) => {
        const a = await client();
        const response = await a.pull(`?after=${encodeURIComponent(cursor)}`);
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({
          code: expect.stringMatching(/INVALID_CURSOR|VALIDATION_FAILED/),
        });
      },
    );
  });

  // Issue 12, item 2: a malformed commit is answered on its own, so it cannot block the queue.
  describe(`sync app on ${label}: a malformed commit is rejected on its own, the others are stored`, () => {
    // Each bad event as JSON text, so `__proto__` arrives as a key, as it does over the wire.
    const text = (event: unknown) => JSON.stringify(event);
    const perCommit: [string, () => string][] = [
      ['version 0', () => text({ ...todoEvent('t1', 1), version: 0 })],
      ['negative version', () => text({ ...todoEvent('t1', 1), version: -3 })],
      ['a version above int4', () => text({ ...todoEvent('t1', 1), version: 2 ** 31 })],
      ['a version gap', () => `${text(todoEvent('t1', 1))},${text(todoEvent('t1', 3))}`],
      [
        'duplicate ids',
        () => {
          const event = todoEvent('t1', 1);
          return `${text(event)},${text({ ...event, version: 2 })}`;
        },
      ],
      [
        'occurredAt in year 0',
        () => text({ ...todoEvent('t1', 1), occurredAt: '0000-06-01T00:00:00Z' }),
      ],
      ['a NUL in data', () => text(todoEvent('t1', 1, 'TodoAdded', { title: 'a\u0000b' }))],
      [
        'a lone surrogate in data',
        () => text(todoEvent('t1', 1, 'TodoAdded', { title: 'x\ud800' })),
      ],
      ['a lone surrogate in the id', () => text({ ...todoEvent('t1', 1), aggregateId: 't\udbff' })],
      [
        'a NUL in a metadata key',
        () => text({ ...todoEvent('t1', 1), metadata: { 'k\u0000': 1 } }),
      ],
      [
        'constructor keys in metadata',
        () => text({ ...todoEvent('t1', 1), metadata: { constructor: 'x' } }),
      ],
      [
        '__proto__ keys in data',
        () => text(todoEvent('t1', 1)).replace('"data":{', '"data":{"__proto__":{"admin":true},'),
      ],
    ];

    it.each(perCommit)('%s', async (_, bad) => {
      const a = await client();
      const response = await a.push(
        `{"clientId":"client-a","commits":[{"commitId":"bad","events":[${bad()}]},{"commitId":"fine","events":[${text(todoEvent('t9', 1))}]}]}`,
      );
      expect(response.status).toBe(200);
      const { results } = PushResponseSchema.parse(await response.json());
      expect(outcomes(results)).toEqual([
        ['bad', 'rejected', 'VALIDATION_FAILED'],
        ['fine', 'accepted', ''],
      ]);
      expect((await a.pulled()).map((event) => event.aggregateId)).toEqual(['t9']);
    });

    it('a push whose middle commit is invalid: the others are stored, later commits of its aggregate wait', async () => {
      const a = await client();
      await a.push(push({ commitId: 'c0', events: [todoEvent('m2', 1)] }));
      const badData = todoEvent('m2', 2, 'TodoCompleted', { note: 'x\ud800' });
      const { results } = PushResponseSchema.parse(
        await (
          await a.push(
            push(
              { commitId: 'first', events: [todoEvent('m1', 1)] },
              { commitId: 'middle', events: [badData] },
              { commitId: 'after-middle', events: [todoEvent('m2', 2, 'TodoCompleted', {})] },
              { commitId: 'last', events: [todoEvent('m3', 1)] },
            ),
          )
        ).json(),
      );
      expect(results).toEqual([
        expect.objectContaining({ commitId: 'first', status: 'accepted' }),
        expect.objectContaining({
          commitId: 'middle',
          status: 'rejected',
          code: 'VALIDATION_FAILED',
          currentVersion: 1,
          message: expect.stringContaining('lone surrogate'),
        }),
        expect.objectContaining({
          commitId: 'after-middle',
          status: 'rejected',
          code: 'VERSION_CONFLICT',
          currentVersion: 1,
        }),
        expect.objectContaining({ commitId: 'last', status: 'accepted' }),
      ]);
      expect((await a.pulled()).map((event) => [event.aggregateId, event.version])).toEqual([
        ['m2', 1],
        ['m1', 1],
        ['m3', 1],
      ]);
      // The client's retry without the bad commit goes through.
      const retry = PushResponseSchema.parse(
        await (
          await a.push(
            push({ commitId: 'after-middle', events: [todoEvent('m2', 2, 'TodoCompleted', {})] }),
          )
        ).json(),
      );
      expect(outcomes(retry.results)).toEqual([['after-middle', 'accepted', '']]);
    });

    it('a commit naming no valid aggregate is rejected with version 0; duplicate commit ids fail the push', async () => {
      const a = await client();
      const { results } = PushResponseSchema.parse(
        await (
          await a.push(
            push(
              { commitId: 'no-events', events: [] },
              { commitId: 'fine', events: [todoEvent('n1', 1)] },
            ),
          )
        ).json(),
      );
      expect(results).toEqual([
        expect.objectContaining({
          commitId: 'no-events',
          code: 'VALIDATION_FAILED',
          currentVersion: 0,
        }),
        expect.objectContaining({ commitId: 'fine', status: 'accepted' }),
      ]);
      const twice = await a.push(
        push(
          { commitId: 'same', events: [todoEvent('n2', 1)] },
          { commitId: 'same', events: [todoEvent('n3', 1)] },
        ),
      );
      expect(twice.status).toBe(400);
      expect((await a.pulled()).map((event) => event.aggregateId)).toEqual(['n1']);
    });
  });

  describe(`sync app on ${label}: auth and tenancy`, () => {
    it('refuses requests without a valid token', async () => {
      expect((await app.request('/v1/pull')).status).toBe(401);
      const forged = await sign({ sub: 'u', tenant: 'a' }, 'wrong-secret');
      const response = await app.request('/v1/pull', {
        headers: { authorization: `Bearer ${forged}` },
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    });

    it('a tenant never reads or writes another tenant’s events, whatever the body says', async () => {
      const a = await client('tenant-a-iso');
      const b = await client('tenant-b-iso');
      const event = todoEvent('shared', 1);
      await a.push(push({ commitId: 'a1', events: [event] }));
      expect(await b.pulled()).toEqual([]);
      // B pushing the same ids and aggregate starts B's own stream; A's is untouched.
      // A body naming a tenant is refused outright: the tenant only ever comes from the token.
      const smuggled = await b.push({
        ...push({ commitId: 'b0', events: [event] }),
        tenant: 'tenant-a-iso',
      });
      expect(smuggled.status).toBe(400);
      const ok = PushResponseSchema.parse(
        await (await b.push(push({ commitId: 'b1', events: [event] }))).json(),
      );
      expect(ok.results[0]?.status).toBe('accepted');
      expect((await a.pulled()).map((e) => e.id)).toEqual([event.id]);
      expect((await b.pulled()).map((e) => e.id)).toEqual([event.id]);
    });
  });

  describe(`sync app on ${label}: authorization per aggregate`, () => {
    it('a refused write rejects that commit with FORBIDDEN; refused reads are left out of pulls', async () => {
      const guarded = createSyncApp({
        database,
        authenticate: jwtAuthentication({ secret: SECRET }),
        authorize: {
          canWrite: (_principal, stream) => !stream.aggregateId.startsWith('locked-'),
          canRead: (_principal, event) => !event.aggregateId.startsWith('hidden-'),
        },
        onError: () => undefined,
      });
      const token = await bearerToken(SECRET, `tenant-${tenants++}`, 'user-2');
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const response = await guarded.request('/v1/push', {
        method: 'POST',
        headers,
        body: JSON.stringify(
          push(
            { commitId: 'locked', events: [todoEvent('locked-1', 1)] },
            { commitId: 'hidden', events: [todoEvent('hidden-1', 1)] },
            { commitId: 'open', events: [todoEvent('open-1', 1)] },
          ),
        ),
      });
      const { results } = PushResponseSchema.parse(await response.json());
      expect(outcomes(results)).toEqual([
        ['locked', 'rejected', 'FORBIDDEN'],
        ['hidden', 'accepted', ''],
        ['open', 'accepted', ''],
      ]);
      const pulled = PullResponseSchema.parse(
        await (await guarded.request('/v1/pull', { headers })).json(),
      );
      expect(pulled.events.map((event) => event.aggregateId)).toEqual(['open-1']);
      expect(pulled.hasMore).toBe(false);
      await guarded.close();
    });
  });

  describe(`sync app on ${label}: folding pushed events through evolve`, () => {
    it('rejects a commit the aggregate cannot apply to its stored history, when asked to', async () => {
      const Moved = defineEvent('Moved', z.object({ to: z.number() }));
      const Piece = defineAggregate({
        type: 'Piece',
        events: [Moved],
        initialState: () => ({ at: 0 }),
        evolve: (state, event) => {
          if (event.data.to < state.at)
            throw new Error(`cannot move back from ${state.at} to ${event.data.to}`);
          return { at: event.data.to };
        },
      });
      const strict = createSyncApp({
        database,
        authenticate: jwtAuthentication({ secret: SECRET }),
        aggregates: [Piece],
        authority: { Piece: 'events' },
        foldThroughEvolve: true,
      });
      const token = await bearerToken(SECRET, `tenant-${tenants++}`, 'user-3');
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const moved = (version: number, to: number) => ({
        id: newKsuid(),
        type: 'Moved',
        schemaVersion: 1,
        aggregateType: 'Piece',
        aggregateId: 'p1',
        version,
        occurredAt: '2026-11-22T10:00:00.000Z',
        data: { to },
        metadata: {},
      });
      const send = async (...commits: { commitId: string; events: unknown[] }[]) =>
        PushResponseSchema.parse(
          await (
            await strict.request('/v1/push', {
              method: 'POST',
              headers,
              body: JSON.stringify(push(...commits)),
            })
          ).json(),
        ).results;

      expect((await send({ commitId: 'forward', events: [moved(1, 5)] }))[0]?.status).toBe(
        'accepted',
      );
      const [backwards] = await send({ commitId: 'backwards', events: [moved(2, 3)] });
      expect(backwards).toMatchObject({
        status: 'rejected',
        code: 'VALIDATION_FAILED',
        currentVersion: 1,
      });
      expect((await send({ commitId: 'forward-again', events: [moved(2, 9)] }))[0]?.status).toBe(
        'accepted',
      );
      await strict.close();
    });
  });
}
