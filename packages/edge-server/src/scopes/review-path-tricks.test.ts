// Adversarial review of issue 15: the whole-tenant and one-aggregate gates are path middleware;
// spellings of the same route must not slip past them.
import { newKsuid } from '@strata/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { taskScopesApp } from '../../test/fixtures/scopes/task-scopes-app.ts';
import type { SyncApp } from '../app/create-sync-app.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';

const pglite = useMigratedPglite();
let app: SyncApp;
beforeAll(async () => {
  app = taskScopesApp(pgliteDatabase(pglite()), 'paths', {
    project: () => false,
    assignedTo: (p, { userId }) => p.subject === userId,
    tenant: (p) => p.subject === 'root',
  });
  const response = await app.request('/v1/push', {
    method: 'POST',
    headers: { 'x-user': 'root', 'content-type': 'application/json' },
    body: JSON.stringify({
      clientId: 'd',
      commits: [
        {
          commitId: newKsuid(),
          events: [
            {
              id: newKsuid(),
              type: 'TaskCreated',
              schemaVersion: 1,
              aggregateType: 'Task',
              aggregateId: 'secret',
              version: 1,
              occurredAt: new Date().toISOString(),
              data: { projectId: 'p9', title: 'secret title', assignee: 'bob' },
              metadata: {},
            },
          ],
        },
      ],
    }),
  });
  expect(response.status).toBe(200);
});
afterAll(async () => {
  await app?.close();
});

describe('review: path spellings of gated routes', () => {
  it('the admin reads the secret task (the probe below is meaningful)', async () => {
    for (const path of ['/v1/pull', '/v1/streams/Task/secret/events', '/v1/%70ull']) {
      const response = await app.request(`http://localhost${path}`, {
        headers: { 'x-user': 'root' },
      });
      expect(await response.text(), path).toContain('secret title');
    }
  });

  it.each([
    '/v1/pull',
    '/v1/pull/',
    '/v1//pull',
    '/v1/%70ull',
    '/v1/pull?after=',
    '/v1/./pull',
    '/v1/streams/Task/secret',
    '/v1/streams/Task/secret/',
    '/v1/streams/Task/secret/events',
    '/v1/streams/Task/secre%74/events',
    '/v1/streams/Task/secret/events/',
    '/v1/streams/Task//secret/events',
    '/v1/streams/%54ask/secret',
  ])('%s never answers the secret task to ann', async (path) => {
    const response = await app.request(`http://localhost${path}`, { headers: { 'x-user': 'ann' } });
    const text = await response.text();
    expect(text).not.toContain('secret title');
  });
});
