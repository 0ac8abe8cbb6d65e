// Adversarial review of issue 15: paging a scoped read at every page edge (joins with history,
// lefts, the tenant scope mixed in) must give the same items as one read, each once, in order.
import { newKsuid } from '@strata/core';
import { assignedTo, project } from '@strata/example-todo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { taskScopesApp } from '../../test/fixtures/scopes/task-scopes-app.ts';
import type { SyncApp } from '../app/create-sync-app.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';

type Answer = Record<string, any>;

const pglite = useMigratedPglite();
let app: SyncApp;
beforeAll(() => {
  app = taskScopesApp(pgliteDatabase(pglite()), 'paging', {
    project: () => true,
    assignedTo: () => true,
    tenant: () => true,
  });
});
afterAll(async () => {
  await app?.close();
});

async function post(path: string, body: unknown) {
  const response = await app.request(path, {
    method: 'POST',
    headers: { 'x-user': 'root', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer };
}

const label = (item: Answer) =>
  item.kind === 'event'
    ? `${item.cursor} ${item.event.aggregateId} v${item.event.version} [${item.scopes.join(' ')}]`
    : `${item.cursor} left ${item.aggregateId} ${item.scope}`;

describe('review: paged scoped reads equal one read', () => {
  it('for every scope set and every limit, with joins, lefts and tenant', async () => {
    // A deterministic mix: tasks created, moved and reassigned between p1/p2 and ann/bob.
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const versions = new Map<string, number>();
    for (let step = 0; step < 40; step++) {
      const id = `t${random(6)}`;
      const version = (versions.get(id) ?? 0) + 1;
      const pick = random(3);
      const [type, data] =
        version === 1
          ? ['TaskCreated', { projectId: `p${1 + random(3)}`, title: id, assignee: 'bob' }]
          : pick === 0
            ? ['TaskMoved', { projectId: `p${1 + random(3)}` }]
            : pick === 1
              ? ['TaskReassigned', { assignee: random(2) === 0 ? 'ann' : 'bob' }]
              : ['TaskRenamed', { title: `${id}-${step}` }];
      const answer = await post('/v1/push', {
        clientId: 'device',
        commits: [
          {
            commitId: newKsuid(),
            events: [
              {
                id: newKsuid(),
                type,
                schemaVersion: 1,
                aggregateType: 'Task',
                aggregateId: id,
                version,
                occurredAt: new Date().toISOString(),
                data,
                metadata: {},
              },
            ],
          },
        ],
      });
      // A move or reassignment to where the task already is is still an event: fine.
      expect(answer.body.results[0].status).toBe('accepted');
      versions.set(id, version);
    }
    const keys = [
      project({ projectId: 'p1' }).key,
      project({ projectId: 'p2' }).key,
      assignedTo({ userId: 'ann' }).key,
      'tenant',
    ];
    const sets = [[0], [0, 1], [0, 2], [1, 2], [0, 1, 2], [0, 3], [2, 3], [0, 1, 2, 3]].map((s) =>
      s.map((i) => keys[i] as string),
    );
    for (const scopes of sets) {
      const whole = await post('/v2/pull', {
        scopes: scopes.map((scope) => ({ scope })),
        limit: 1000,
      });
      expect(whole.body.hasMore).toBe(false);
      const expected = whole.body.items.map(label);
      for (const limit of [1, 2, 3, 5, 8]) {
        const seen: string[] = [];
        let cursors: Record<string, string> = {};
        for (let page = 0; page < 500; page++) {
          const answer = await post('/v2/pull', {
            scopes: scopes.map((scope) =>
              cursors[scope] === undefined ? { scope } : { scope, after: cursors[scope] },
            ),
            limit,
          });
          expect(answer.status).toBe(200);
          seen.push(...answer.body.items.map(label));
          cursors = answer.body.cursors;
          if (!answer.body.hasMore) break;
        }
        expect(seen, `${scopes.join(',')} limit ${limit}`).toEqual(expected);
      }
    }
  }, 120_000);
});
