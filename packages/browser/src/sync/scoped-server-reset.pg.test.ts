// A device that syncs by scopes meets a server whose database was reset (issue 17): the scoped
// pull's log id differs, so it re-bootstraps like a whole-tenant device, reads each scope again
// from the start, and re-runs its pending commands once every scope is back. Against the real
// edge server on Postgres.
import 'fake-indexeddb/auto';
import type { CommandPrincipal } from '@strata/core';
import { project, Task, taskScopes } from '@strata/example-todo';
import { bearerToken } from '@strata/tooling/sync/sync-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  eventually,
  localEventIds,
  sortedIds,
  startTestClient,
  startTestServer,
  TEST_TENANT,
  type TestClient,
  type TestServer,
} from '../../test/fixtures/sync-harness.ts';
import { taskList, taskTables } from '../../test/fixtures/task-list.ts';
import type { SyncStatus } from './sync-status.ts';

const secret = 'a-test-secret-of-enough-length';
let server: TestServer;
let client: TestClient | undefined;

beforeEach(async () => {
  server = await startTestServer({
    jwtSecret: secret,
    aggregates: [Task],
    scopes: {
      definitions: [project],
      membership: [taskScopes],
      // The harness reads the server's whole log as user-1 (see scoped-sync.pg.test.ts).
      rules: { project: () => true, tenant: (principal) => principal.subject === 'user-1' },
    },
    heartbeatMs: 200,
  });
}, 60_000);

afterEach(async () => {
  await client?.close();
  await server?.stop();
});

describe('scoped sync and a reset server', () => {
  it('re-bootstraps: the scope is read again, the pending command re-runs, nothing of the old log stays', async () => {
    const token = await bearerToken(secret, TEST_TENANT, 'bob');
    const principal: CommandPrincipal = { userId: 'bob', tenant: TEST_TENANT, claims: {} };
    const phone = await startTestClient(
      server.url,
      'bob-phone',
      { aggregates: [Task], token: () => token, scopes: [project({ projectId: 'p1' })] },
      { tables: taskTables, projections: [taskList], principal },
    );
    client = phone;
    const create = (id: string) =>
      phone.strata.execute(Task, id, 'create', { projectId: 'p1', title: id, assignee: 'bob' });
    await create('t1');
    await create('t2');
    await phone.sync.whenSynced();
    phone.network.setOnline(false);
    await create('t3');

    await server.restart(0, async () => {
      await server.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
    });
    const statuses: SyncStatus[] = [];
    phone.sync.status.subscribe({ next: (status) => statuses.push(status) });
    phone.network.setOnline(true);
    phone.sync.syncNow();

    await eventually(async () => {
      expect(await phone.strata.db.table('commands').count()).toBe(0);
      const stored = await server.events();
      expect(stored.map((event) => event.aggregateId)).toEqual(['t3']);
      expect(await localEventIds(phone)).toEqual(sortedIds(stored));
    }, 30_000);
    await phone.sync.whenSynced();
    const members = await phone.strata.db.scopeMembers.toArray();
    expect(members.map((row) => row.aggregateId)).toEqual(['t3']);
    const rows = await phone.strata.db.table('tasks').toArray();
    expect(rows.map((row: { id: string }) => row.id)).toEqual(['t3']);
    expect(phone.rejected).toEqual([]);
    expect(statuses.some((status) => status.rebootstrap !== undefined)).toBe(true);
    expect(
      statuses.filter((status) => status.rebootstrap !== undefined && status.catchUp.done),
    ).toEqual([]);
    expect(statuses.at(-1)?.scopes?.held).toEqual([project({ projectId: 'p1' }).key]);
  }, 60_000);
});
