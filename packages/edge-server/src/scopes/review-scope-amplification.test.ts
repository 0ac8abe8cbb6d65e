// Adversarial review of issue 15: a join copies the aggregate's whole history into the scope it
// joins, so one writer moving a long aggregate back and forth makes scope rows grow with
// history x moves (and every device of either scope downloads the history again each time).
import { newKsuid } from '@strata/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { taskScopesApp } from '../../test/fixtures/scopes/task-scopes-app.ts';
import type { SyncApp } from '../app/create-sync-app.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';

const pglite = useMigratedPglite();
let app: SyncApp;
let database: SqlDatabase;
beforeAll(() => {
  database = pgliteDatabase(pglite());
  // ann is an ordinary user: her own tasks only.
  app = taskScopesApp(database, 'amp', {
    project: () => false,
    assignedTo: (p, { userId }) => p.subject === userId,
  });
});
afterAll(async () => {
  await app?.close();
});

const event = (version: number, type: string, data: unknown) => ({
  id: newKsuid(),
  type,
  schemaVersion: 1,
  aggregateType: 'Task',
  aggregateId: 'long',
  version,
  occurredAt: new Date().toISOString(),
  data,
  metadata: {},
});

describe('review: scope rows a single writer can make', () => {
  it('stay proportional to the events written (history is not copied per move)', async () => {
    const events = [event(1, 'TaskCreated', { projectId: 'a', title: 'x', assignee: 'ann' })];
    for (let v = 2; v <= 100; v++) events.push(event(v, 'TaskRenamed', { title: `x${v}` }));
    // 50 moves in the same push, alternating between two projects ann is no member of.
    for (let m = 0; m < 50; m++) {
      events.push(event(101 + m, 'TaskMoved', { projectId: m % 2 === 0 ? 'b' : 'a' }));
    }
    const response = await app.request('/v1/push', {
      method: 'POST',
      headers: { 'x-user': 'ann', 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: 'd', commits: [{ commitId: newKsuid(), events }] }),
    });
    const answer = (await response.json()) as { results: { status: string }[] };
    expect(answer.results[0]?.status).toBe('accepted');
    const { rows } = await database.query<{ n: string | number }>(
      `SELECT count(*) AS n FROM strata_scope_rows WHERE tenant = 'amp'`,
    );
    // 150 events in two scopes each at most would be 300 rows (+ 50 lefts).
    expect(Number(rows[0]?.n)).toBeLessThan(400);
  }, 60_000);
});
