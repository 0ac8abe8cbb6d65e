// A device that syncs by scopes meets a server restored from an older dump (issue 17): the
// restore keeps the log id, and another device's events take the positions the scoped device
// had read past, so neither the log id nor the scope cursor tells. Its scoped catch-up sends
// the anchor (the last event it received), the server answers LOG_DIVERGED, and the device
// re-bootstraps as a whole-tenant one does (server-restore.pg.test.ts): it ends with exactly
// the server's events, its pending commands re-run (or rejected, visibly). Real edge server on
// Postgres, `pg_dump`/`pg_restore`, fake-indexeddb.
import 'fake-indexeddb/auto';
import type { CommandPrincipal } from '@strata/core';
import { project, Task, taskScopes } from '@strata/example-todo';
import { bearerToken } from '@strata/tooling/sync/sync-client';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { backUp } from '../../test/fixtures/pg-backup.ts';
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
const clients: TestClient[] = [];

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
  for (const client of clients.splice(0)) await client.close();
  await server?.stop();
});

/** A device of `user` holding project p1's scope. */
async function scopedDevice(user: string, name: string): Promise<TestClient> {
  const token = await bearerToken(secret, TEST_TENANT, user);
  const principal: CommandPrincipal = { userId: user, tenant: TEST_TENANT, claims: {} };
  const client = await startTestClient(
    server.url,
    name,
    { aggregates: [Task], token: () => token, scopes: [project({ projectId: 'p1' })] },
    { tables: taskTables, projections: [taskList], principal },
  );
  clients.push(client);
  return client;
}

const create = (client: TestClient, id: string) =>
  client.strata.execute(Task, id, 'create', { projectId: 'p1', title: id, assignee: 'bob' });

describe('scoped sync and a server restored from an older dump (same log id)', () => {
  it('the anchor tells: the device re-bootstraps, re-runs its pending commands and ends with exactly the server events', async () => {
    const phone = await scopedDevice('bob', 'bob-phone');
    await create(phone, 't1');
    await create(phone, 't2');
    await phone.sync.whenSynced();
    const backup = await backUp(server.databaseUrl);
    onTestFinished(() => backup.discard());

    // Confirmed after the backup: the restore loses it.
    await create(phone, 't3');
    await phone.sync.whenSynced();
    expect((await server.events()).length).toBe(3);
    expect((await phone.strata.db.table('syncState').get('anchor'))?.value).toMatchObject({
      position: 3,
    });

    // Offline, pending: a new task, and a rename of the task the restore loses.
    phone.network.setOnline(false);
    await create(phone, 't4');
    await phone.strata.execute(Task, 't3', 'rename', { title: 'renamed while offline' });
    expect(await phone.strata.db.table('commands').count()).toBe(2);

    const [{ log_id: before } = { log_id: '' }] = await server.query<{ log_id: string }>(
      'SELECT log_id FROM strata_log_identity',
    );
    await server.restart(0, () => backup.restore());
    expect((await server.events()).length).toBe(2);
    const [{ log_id: after } = { log_id: '' }] = await server.query<{ log_id: string }>(
      'SELECT log_id FROM strata_log_identity',
    );
    expect(after).toBe(before); // the log id cannot tell
    // Another device writes to the restored log before the phone is back: its events take the
    // positions the phone had read past, so the phone's scope cursor is not past the end.
    const laptop = await scopedDevice('ann', 'ann-laptop');
    await create(laptop, 't5');
    await create(laptop, 't6');
    await laptop.sync.whenSynced();
    expect((await server.events()).length).toBe(4);

    const statuses: SyncStatus[] = [];
    phone.sync.status.subscribe({ next: (status) => statuses.push(status) });
    phone.network.setOnline(true);
    phone.sync.syncNow();
    await eventually(async () => {
      expect(await phone.strata.db.table('commands').count()).toBe(0);
      const stored = await server.events();
      expect(stored.map((event) => event.aggregateId).sort()).toEqual([
        't1',
        't2',
        't4',
        't5',
        't6',
      ]);
      expect(await localEventIds(phone)).toEqual(sortedIds(stored));
    }, 30_000);
    await phone.sync.whenSynced();

    // Only the server's: the lost task is gone from the events, scope rows and projection.
    const stored = await server.events();
    expect(await localEventIds(phone)).toEqual(sortedIds(stored));
    const members = await phone.strata.db.scopeMembers.toArray();
    expect(members.map((row) => row.aggregateId).sort()).toEqual(['t1', 't2', 't4', 't5', 't6']);
    const rows = await phone.strata.db.table('tasks').toArray();
    expect(rows.map((row: { id: string }) => row.id).sort()).toEqual([
      't1',
      't2',
      't4',
      't5',
      't6',
    ]);
    // The rename of the lost task is rejected, visibly, with the domain's reason.
    expect(phone.rejected.map((row) => [row.aggregateId, row.command, row.code])).toEqual([
      ['t3', 'rename', 'DOMAIN_RULE_VIOLATED'],
    ]);
    // The anchor is the restored log's now.
    const last = stored.reduce((a, b) => (a.position > b.position ? a : b));
    expect((await phone.strata.db.table('syncState').get('anchor'))?.value).toEqual({
      position: last.position,
      eventId: last.id,
    });
    // The status said so while it happened, and never claimed caught up meanwhile.
    const during = statuses.filter((status) => status.rebootstrap !== undefined);
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((status) => !status.catchUp.done)).toBe(true);
    expect(statuses.at(-1)?.rebootstrap).toBeUndefined();
    expect(statuses.at(-1)?.scopes?.held).toEqual([project({ projectId: 'p1' }).key]);
  }, 90_000);
});
