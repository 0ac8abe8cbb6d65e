import {
  newKsuid,
  readServerSentEvents,
  type ScopedSubscriptionMessage,
  ScopedSubscriptionMessageSchema,
} from '@strata/core';
import { assignedTo, project, Task, taskScopes } from '@strata/example-todo';
import { createTestDatabase, type Pool, type TestDatabase } from '@strata/tooling/postgres/neon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../app/auth.ts';
import { createSyncApp, type SyncApp } from '../app/create-sync-app.ts';
import { migrate } from '../migrations/migrations.ts';
import { neonDatabase } from '../postgres/neon-database.ts';
import { neonListen } from './listen-source.ts';

// Two instances on one Postgres, each with its own pool, feed and LISTEN connection; polling is
// set to a minute, so only NOTIFY carries a write on one instance to a subscriber on the other.
// Writers race on both while scoped subscribers follow: each stream must equal a pull from the
// start afterwards (no gap, no repeat), whatever order the commits and notifications came in.
const P1 = project({ projectId: 'p1' }).key;
const ANN = assignedTo({ userId: 'ann' }).key;
let database: TestDatabase;
const pools: Pool[] = [];
const instances: SyncApp[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  for (let i = 0; i < 2; i++) {
    const pool = database.createPool({ max: 6 });
    pools.push(pool);
    instances.push(
      createSyncApp({
        database: neonDatabase(pool),
        authenticate: (request): Principal => ({
          tenant: 'shared',
          subject: request.headers.get('x-user') ?? 'ann',
        }),
        aggregates: [Task],
        authority: { Task: 'events' },
        scopes: {
          definitions: [project, assignedTo],
          membership: [taskScopes],
          rules: {
            project: (_principal, { projectId }) => projectId === 'p1',
            assignedTo: (principal, { userId }) => principal.subject === userId,
            tenant: (principal) => principal.subject === 'root',
          },
        },
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

const at = (index: number) => instances[index % instances.length] as SyncApp;
const short = (message: ScopedSubscriptionMessage | Record<string, never>) =>
  'kind' in message && message.kind === 'event'
    ? `${message.cursor} ${message.event.aggregateId} v${message.event.version} [${message.scopes.join(' ')}]`
    : 'kind' in message && message.kind === 'left'
      ? `${message.cursor} left ${message.aggregateId} ${message.scope}`
      : '';

async function push(instance: SyncApp, events: unknown[]) {
  const response = await instance.request('/v1/push', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user': 'root' },
    body: JSON.stringify({ clientId: 'writer', commits: [{ commitId: newKsuid(), events }] }),
  });
  expect(response.status).toBe(200);
  const { results } = (await response.json()) as { results: { status: string }[] };
  expect(results[0]?.status).toBe('accepted');
}

const taskEvent = (id: string, version: number, type: string, data: unknown) => ({
  id: newKsuid(),
  type,
  schemaVersion: 1,
  aggregateType: 'Task',
  aggregateId: id,
  version,
  occurredAt: new Date(Date.now() - 60_000).toISOString(),
  data,
  metadata: {},
});

describe('scoped subscriptions on two instances', () => {
  it('follow racing writers on both through NOTIFY: every item once, in order', async () => {
    const followed: [number, string[]][] = [
      [0, [P1]],
      [1, [ANN]],
      [1, [P1, ANN]],
    ];
    const streams = await Promise.all(
      followed.map(async ([instance, scopes]) => {
        const controller = new AbortController();
        const query = new URLSearchParams(scopes.map((scope) => ['scope', scope]));
        const response = await at(instance).request(`/v2/subscribe?${query}`, {
          headers: { 'x-user': 'ann' },
          signal: controller.signal,
        });
        expect(response.status).toBe(200);
        const messages = readServerSentEvents(response.body as ReadableStream<Uint8Array>);
        const seen: string[] = [];
        return { controller, messages, seen, scopes };
      }),
    );

    // Ten tasks created on alternating instances, then racing moves and reassignments.
    await Promise.all(
      Array.from({ length: 10 }, (_, n) =>
        push(at(n), [
          taskEvent(`t${n}`, 1, 'TaskCreated', {
            projectId: n % 2 === 0 ? 'p1' : 'p2',
            title: `task ${n}`,
            assignee: n % 3 === 0 ? 'ann' : 'bob',
          }),
        ]),
      ),
    );
    await Promise.all(
      Array.from({ length: 10 }, async (_, n) => {
        await push(at(n + 1), [
          taskEvent(`t${n}`, 2, 'TaskMoved', { projectId: n % 2 === 0 ? 'p2' : 'p1' }),
        ]);
        await push(at(n), [
          taskEvent(`t${n}`, 3, 'TaskReassigned', { assignee: n % 3 === 0 ? 'bob' : 'ann' }),
        ]);
      }),
    );

    for (const stream of streams) {
      // What a pull from the start answers now, page by page.
      const { scopes } = stream;
      const expected: string[] = [];
      let cursors: Record<string, string> = {};
      for (;;) {
        const response = await at(0).request('/v2/pull', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-user': 'ann' },
          body: JSON.stringify({
            scopes: scopes.map((scope) =>
              cursors[scope] === undefined ? { scope } : { scope, after: cursors[scope] },
            ),
            limit: 7,
          }),
        });
        const page = (await response.json()) as {
          items: ScopedSubscriptionMessage[];
          cursors: Record<string, string>;
          hasMore: boolean;
        };
        expected.push(...page.items.map(short));
        cursors = page.cursors;
        if (!page.hasMore) break;
      }
      expect(expected.length).toBeGreaterThan(10);
      while (stream.seen.length < expected.length) {
        const { value, done } = await stream.messages.next();
        if (done) throw new Error('stream ended');
        const item = short(ScopedSubscriptionMessageSchema.parse(JSON.parse(value.data)));
        if (item !== '') stream.seen.push(item);
      }
      expect(stream.seen).toEqual(expected);
      stream.controller.abort();
    }
  }, 60_000);
});
