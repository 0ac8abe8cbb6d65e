// A device that syncs by scopes meets a server restored from an older dump (issue 17): the
// restore keeps the log id, and another device's events take the positions the scoped device
// had read past, so neither the log id nor the scope cursor tells. Its scoped catch-up sends
// the anchor (the last event it received), the server answers LOG_DIVERGED, and the device
// re-bootstraps as a whole-tenant one does (server-restore.pg.test.ts): it ends with exactly
// the server's events, its pending commands re-run (or rejected, visibly). Real edge server on
// Postgres, `pg_dump`/`pg_restore`, fake-indexeddb.
import 'fake-indexeddb/auto';
import { project, Task } from '@strata/example-todo';
import { describe, expect, it, onTestFinished } from 'vitest';
import { backUp } from '../../test/fixtures/pg-backup.ts';
import { createTask, scopedTaskServerPerTest } from '../../test/fixtures/scoped-task-server.ts';
import { eventually, localEventIds, sortedIds } from '../../test/fixtures/sync-harness.ts';
import type { SyncStatus } from './sync-status.ts';

const { server: currentServer, device } = scopedTaskServerPerTest();

describe('scoped sync and a server restored from an older dump (same log id)', () => {
  it('the anchor tells: the device re-bootstraps, re-runs its pending commands and ends with exactly the server events', async () => {
    const server = currentServer();
    const phone = await device('bob', 'bob-phone');
    await createTask(phone, 't1');
    await createTask(phone, 't2');
    await phone.sync.whenSynced();
    const backup = await backUp(server.databaseUrl);
    onTestFinished(() => backup.discard());

    // Confirmed after the backup: the restore loses it.
    await createTask(phone, 't3');
    await phone.sync.whenSynced();
    expect((await server.events()).length).toBe(3);
    expect((await phone.strata.db.table('syncState').get('anchor'))?.value).toMatchObject({
      position: 3,
    });

    // Offline, pending: a new task, and a rename of the task the restore loses.
    phone.network.setOnline(false);
    await createTask(phone, 't4');
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
    const laptop = await device('ann', 'ann-laptop');
    await createTask(laptop, 't5');
    await createTask(laptop, 't6');
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
