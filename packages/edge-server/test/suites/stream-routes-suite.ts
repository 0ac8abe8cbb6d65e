import {
  PROBLEM_JSON,
  type StoredEvent,
  StreamHistoryResponseSchema,
  StreamMetadataSchema,
} from '@strata/core';
import { Todo } from '@strata/example-todo';
import { bearerToken, commit, syncClient, todoEvent } from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtAuthentication } from '../../src/app/auth.ts';
import { createSyncApp, type SyncApp } from '../../src/app/create-sync-app.ts';
import { migrate } from '../../src/migrations/migrations.ts';
import type { SuiteDatabase } from './suite-databases.ts';

const SECRET = 'stream-routes-secret';

/**
 * The history and stream metadata endpoints, and volatile subscriptions, against any database:
 * PGlite in the unit tier, real Postgres through the Neon driver in the pg tier.
 */
export function describeStreamRoutes(label: string, open: () => Promise<SuiteDatabase>): void {
  let suiteDatabase: SuiteDatabase;
  let app: SyncApp;

  beforeAll(async () => {
    suiteDatabase = await open();
    await migrate(suiteDatabase.database);
    app = createSyncApp({
      database: suiteDatabase.database,
      authenticate: jwtAuthentication({ secret: SECRET }),
      aggregates: [Todo],
      authority: { Todo: 'events' },
      // Completions are private to the user who completed them, to test read narrowing.
      authorize: {
        canRead: (principal, event: StoredEvent) =>
          event.type !== 'TodoCompleted' || event.metadata.userId === principal.subject,
      },
      heartbeatMs: 60_000,
      pollIntervalMs: 20,
      onError: () => undefined,
    });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await suiteDatabase?.close();
  });

  let tenants = 0;
  /** A sync client of one tenant and user, plus `get` for the routes under test. */
  const client = async (tenant = `streams-${tenants++}`, subject = 'user-1') => {
    const token = await bearerToken(SECRET, tenant, subject);
    return {
      ...syncClient(async (path, init) => app.request(path, init), { token }),
      get: (path: string) => app.request(path, { headers: { authorization: `Bearer ${token}` } }),
    };
  };
  const json = async (response: { json(): Promise<unknown> }) => response.json();

  describe(`stream routes (${label})`, () => {
    it('metadata: version, first and last stored time, last event and its cursor', async () => {
      const todos = await client();
      const events = [todoEvent('a', 1), todoEvent('a', 2, 'TodoRenamed', { title: 'x' })];
      await todos.push(commit('c1', events[0] as never), commit('c2', events[1] as never));
      const response = await todos.get('/v1/streams/Todo/a');
      expect(response.status).toBe(200);
      const metadata = StreamMetadataSchema.parse(await json(response));
      const pulled = await todos.pullAll();
      expect(metadata).toEqual({
        aggregateType: 'Todo',
        aggregateId: 'a',
        version: 2,
        createdAt: pulled[0]?.recordedAt,
        updatedAt: pulled[1]?.recordedAt,
        lastEventId: events[1]?.id,
        lastEventType: 'TodoRenamed',
        lastCursor: expect.any(String),
      });
    });

    it('history pages from a version with a limit, and says where to continue', async () => {
      const todos = await client();
      await todos.push(
        commit('c1', todoEvent('h', 1)),
        commit('c2', todoEvent('h', 2, 'TodoRenamed', { title: 'two' })),
        commit('c3', todoEvent('h', 3, 'TodoRenamed', { title: 'three' })),
      );
      const page = async (query: string) =>
        StreamHistoryResponseSchema.parse(
          await json(await todos.get(`/v1/streams/Todo/h/events${query}`)),
        );
      const middle = await page('?fromVersion=2&limit=1');
      expect(middle.events.map((event) => [event.version, event.data])).toEqual([
        [2, { title: 'two' }],
      ]);
      expect(middle).toMatchObject({ version: 3, nextVersion: 3, hasMore: true });
      const rest = await page(`?fromVersion=${middle.nextVersion}`);
      expect(rest.events.map((event) => event.version)).toEqual([3]);
      expect(rest).toMatchObject({ nextVersion: 4, hasMore: false });
      const all = await page('');
      expect(all.events.map((event) => event.version)).toEqual([1, 2, 3]);
      const beyond = await page('?fromVersion=10');
      expect(beyond).toMatchObject({ events: [], nextVersion: 10, hasMore: false });
    });

    it('bad queries are typed 400 problems; unknown streams and other tenants get 404', async () => {
      const owner = await client();
      await owner.push(commit('c1', todoEvent('mine', 1)));
      for (const query of [
        '?limit=0',
        '?limit=1001',
        '?fromVersion=abc',
        '?fromVersion=0',
        '?extra=1',
      ]) {
        const response = await owner.get(`/v1/streams/Todo/mine/events${query}`);
        expect(response.status, query).toBe(400);
        expect(response.headers.get('content-type')).toContain(PROBLEM_JSON);
        expect(await json(response)).toMatchObject({ code: 'VALIDATION_FAILED' });
      }
      const stranger = await client();
      for (const path of [
        '/v1/streams/Todo/mine',
        '/v1/streams/Todo/mine/events',
        '/v1/streams/Todo/none',
      ]) {
        const response = await (path.endsWith('none') ? owner : stranger).get(path);
        expect(response.status, path).toBe(404);
        expect(await json(response)).toMatchObject({ code: 'AGGREGATE_NOT_FOUND' });
      }
      const anonymous = await app.request('/v1/streams/Todo/mine');
      expect(anonymous.status).toBe(401);
    });

    it('authorization narrows history, and hides a stream whose last event is unreadable', async () => {
      const tenant = `streams-${tenants++}`;
      const alice = await client(tenant, 'alice');
      const bob = await client(tenant, 'bob');
      const completed = { ...todoEvent('p', 2), metadata: { commandId: 'c2', userId: 'alice' } };
      await alice.push(commit('c1', todoEvent('p', 1)), commit('c2', completed));
      const history = async (who: typeof alice) =>
        StreamHistoryResponseSchema.parse(await json(await who.get('/v1/streams/Todo/p/events')));
      expect((await history(alice)).events.map((event) => event.type)).toEqual([
        'TodoAdded',
        'TodoCompleted',
      ]);
      expect((await bob.get('/v1/streams/Todo/p')).status).toBe(404);
      expect((await alice.get('/v1/streams/Todo/p')).status).toBe(200);
      await alice.push(commit('c3', todoEvent('p', 3, 'TodoRenamed', { title: 'shared' })));
      expect((await history(bob)).events.map((event) => event.type)).toEqual([
        'TodoAdded',
        'TodoRenamed',
      ]);
    });

    it('a volatile subscription (from=now) gets only events committed after it opened', async () => {
      const todos = await client();
      await todos.push(commit('before', todoEvent('v1', 1)));
      const subscription = await todos.subscribe(undefined, 'now');
      try {
        const caughtUp = await subscription.next((seen) =>
          seen.some((m) => m.kind === 'caught-up'),
        );
        expect(caughtUp.filter((message) => message.kind === 'event')).toEqual([]);
        await todos.push(commit('after', todoEvent('v2', 1)));
        const messages = await subscription.next((seen) => seen.some((m) => m.kind === 'event'));
        const events = messages.flatMap((message) =>
          message.kind === 'event' ? [message.event.aggregateId] : [],
        );
        expect(events).toEqual(['v2']);
      } finally {
        subscription.close();
      }
      const both = await todos.get('/v1/subscribe?from=now&after=1.1');
      expect(both.status).toBe(400);
      expect(await json(both)).toMatchObject({ code: 'VALIDATION_FAILED' });
    });
  });
}
