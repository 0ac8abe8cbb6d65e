// A server database replaced under its clients (issue 17, "server identity and reset"): restored
// from an older dump with `pg_dump`/`pg_restore` on real Postgres while a device holds confirmed
// and pending events, or reset to an empty database. The device re-bootstraps: its pending
// commands are kept and re-run on what the server has now (or rejected, visibly), its
// confirmed data is read again, and it converges with the server; no retry loop that cannot
// succeed.
import 'fake-indexeddb/auto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { backUp } from '../../test/fixtures/pg-backup.ts';
import {
  eventually,
  localEventIds,
  serverPerTest,
  sortedIds,
  type TestClient,
} from '../../test/fixtures/sync-harness.ts';
import type { SyncStatus } from './sync-status.ts';

const { server, device } = serverPerTest();

function watchStatus(client: TestClient): SyncStatus[] {
  const seen: SyncStatus[] = [];
  client.sync.status.subscribe({ next: (status) => seen.push(status) });
  return seen;
}

describe('a server restored from an older dump', () => {
  it('the device keeps its pending commands, drops what the server lost, re-runs them on the restored log, and converges', async () => {
    const phone = await device('phone');
    await phone.command('t1', 'add', { title: 'in the backup' });
    await phone.command('t2', 'add', { title: 'also in the backup' });
    await phone.sync.whenSynced();
    const backup = await backUp(server().databaseUrl);
    onTestFinished(() => backup.discard());

    // Confirmed after the backup: the restore loses these.
    await phone.command('t3', 'add', { title: 'after the backup' });
    await phone.command('t1', 'rename', { title: 'renamed after the backup' });
    await phone.sync.whenSynced();
    expect((await server().events()).length).toBe(4);

    // Offline, pending: one on a todo the backup has, one on a todo it lost, one new.
    phone.network.setOnline(false);
    await phone.command('t2', 'rename', { title: 'pending rename' });
    await phone.command('t3', 'complete');
    await phone.command('t4', 'add', { title: 'pending add' });
    expect(await phone.strata.db.table('commands').count()).toBe(3);

    await server().restart(0, () => backup.restore());
    expect((await server().events()).length).toBe(2);
    // Another device writes to the restored log before the phone is back: its events take the
    // positions the phone had read past, so the phone's cursor alone looks fine.
    const laptop = await device('laptop');
    await laptop.command('t5', 'add', { title: 'written after the restore' });
    await laptop.command('t6', 'add', { title: 'also after the restore' });
    await laptop.sync.whenSynced();

    const statuses = watchStatus(phone);
    phone.network.setOnline(true);
    phone.sync.syncNow();
    await eventually(async () => {
      expect(await phone.strata.db.table('commands').count()).toBe(0);
      const stored = await server().events();
      expect(await localEventIds(phone)).toEqual(sortedIds(stored));
    }, 30_000);
    await phone.sync.whenSynced();

    const todos = await phone.todos();
    expect(todos.get('t1')?.title).toBe('in the backup'); // the lost rename is gone
    expect(todos.get('t2')?.title).toBe('pending rename'); // re-run on the restored todo
    expect(todos.get('t3')).toBeUndefined(); // lost with the backup...
    expect(todos.get('t4')?.title).toBe('pending add');
    expect(todos.get('t5')?.title).toBe('written after the restore');
    // ...so completing it is rejected, visibly, with the domain's reason.
    expect(phone.rejected.map((row) => [row.aggregateId, row.command, row.code])).toEqual([
      ['t3', 'complete', 'DOMAIN_RULE_VIOLATED'],
    ]);
    expect(await phone.strata.db.table('rejected').count()).toBe(1);
    // The projection is the server's state too, not the lost one.
    const rows = await phone.todoRows();
    expect([...rows.keys()].sort()).toEqual(['t1', 't2', 't4', 't5', 't6']);
    expect(rows.get('t1')?.title).toBe('in the backup');

    // The server holds each pending command once; the laptop converges on the same log.
    const stored = await server().events();
    expect(stored.map((event) => `${event.aggregateId}:${event.type}`).sort()).toEqual(
      [
        't1:TodoAdded',
        't2:TodoAdded',
        't5:TodoAdded',
        't6:TodoAdded',
        't2:TodoRenamed',
        't4:TodoAdded',
      ].sort(),
    );
    await eventually(async () => expect(await localEventIds(laptop)).toEqual(sortedIds(stored)));
    // The status said so while it happened, and never claimed caught up meanwhile.
    const during = statuses.filter((status) => status.rebootstrap !== undefined);
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((status) => !status.catchUp.done)).toBe(true);
    expect(statuses.at(-1)?.rebootstrap).toBeUndefined();
  }, 90_000);
});

describe('a server reset to an empty database', () => {
  it('gets a new log id; the device pushes its pending commands again on the empty log and drops the rest', async () => {
    const phone = await device('phone');
    await phone.command('t1', 'add', { title: 'confirmed' });
    await phone.sync.whenSynced();
    const [{ log_id: before } = { log_id: '' }] = await server().query<{ log_id: string }>(
      'SELECT log_id FROM strata_log_identity',
    );
    phone.network.setOnline(false);
    await phone.command('t2', 'add', { title: 'pending' });
    await phone.command('t1', 'rename', { title: 'pending rename of a lost todo' });

    await server().restart(0, async () => {
      await server().query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
    });
    const [{ log_id: after } = { log_id: '' }] = await server().query<{ log_id: string }>(
      'SELECT log_id FROM strata_log_identity',
    );
    expect(after).not.toBe(before);

    phone.network.setOnline(true);
    phone.sync.syncNow();
    await eventually(async () => {
      expect(await phone.strata.db.table('commands').count()).toBe(0);
      const stored = await server().events();
      expect(stored.map((event) => event.aggregateId)).toEqual(['t2']);
      expect(await localEventIds(phone)).toEqual(sortedIds(stored));
    }, 30_000);
    expect(phone.rejected.map((row) => [row.aggregateId, row.command, row.code])).toEqual([
      ['t1', 'rename', 'DOMAIN_RULE_VIOLATED'],
    ]);
    expect([...(await phone.todoRows()).keys()]).toEqual(['t2']);
    const logId = await phone.strata.db.table('syncState').get('logId');
    expect(logId?.value).toBe(after);
  }, 90_000);
});
