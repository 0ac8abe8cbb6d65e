// The local database deleted under a running app (issue 17): the tab noticed nothing, wrote its
// in-memory cursor into the recreated empty database and said synced while it held a few of the
// server's events. Now it notices the close, stops writing what it read before, and
// re-bootstraps from the server; the pushes it still held in memory are not lost. Against the
// real edge server on Postgres, with the database deleted through IndexedDB's own API.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import {
  deleteLocalDatabase,
  eventually,
  localEventIds,
  serverPerTest,
  sortedIds,
} from '../../test/fixtures/sync-harness.ts';
import { DATABASE_LOST_REASON } from './database-loss.ts';
import type { SyncStatus } from './sync-status.ts';

const { server, device } = serverPerTest();

const claimsSynced = (status: SyncStatus) =>
  status.catchUp.done && status.pending === 0 && status.rebootstrap === undefined;

describe('the local database deleted under a running app', () => {
  it('re-bootstraps from the server while another device writes: exactly the server events, no synced claim before', async () => {
    const phone = await device('phone');
    for (let i = 0; i < 20; i++) await phone.command(`t${i}`, 'add', { title: `todo ${i}` });
    await phone.sync.whenSynced();
    const laptop = await device('laptop');
    await laptop.sync.whenSynced();

    const statuses: SyncStatus[] = [];
    let deleted = false;
    phone.sync.status.subscribe({ next: (status) => deleted && statuses.push(status) });
    await new Promise((resolve) => setTimeout(resolve, 200)); // its current status, before
    deleted = true;
    await deleteLocalDatabase(phone);
    // Another device writes meanwhile; the phone follows it live (its stream was open).
    for (let i = 0; i < 10; i++) await laptop.command(`l${i}`, 'add', { title: `laptop ${i}` });
    await laptop.sync.whenSynced();

    await eventually(async () => {
      const stored = await server().events();
      expect(stored).toHaveLength(30);
      expect(await localEventIds(phone)).toEqual(sortedIds(stored));
    }, 30_000);
    await phone.sync.whenSynced();
    expect([...(await phone.todoRows()).keys()]).toHaveLength(30);
    // It said what happened, and never claimed synced until it held the server's events again.
    expect(statuses.some((status) => status.rebootstrap?.reason === DATABASE_LOST_REASON)).toBe(
      true,
    );
    const firstClaim = statuses.findIndex(claimsSynced);
    const lastRebootstrap = statuses.findLastIndex((status) => status.rebootstrap !== undefined);
    expect(firstClaim).toBeGreaterThan(lastRebootstrap);
    // Still the same device (client id), now in the new database.
    const clientId = await phone.strata.db.table('syncState').get('clientId');
    expect(clientId?.value).toBe(phone.strata.clientId);
  }, 60_000);

  it('pushes this tab held in memory survive: re-run on the server state once the catch-up is in', async () => {
    const phone = await device('phone');
    await phone.command('t1', 'add', { title: 'confirmed' });
    await phone.sync.whenSynced();
    // Offline: the pushes fail, and the tab holds them (a push attempt after both commands).
    phone.network.setOnline(false);
    await phone.command('t2', 'add', { title: 'pending, then the database went' });
    await phone.command('t1', 'rename', { title: 'renamed while offline' });
    phone.sync.syncNow();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await deleteLocalDatabase(phone);
    await new Promise((resolve) => setTimeout(resolve, 300));
    phone.network.setOnline(true);
    phone.sync.syncNow();

    await eventually(async () => {
      const stored = await server().events();
      expect(stored.map((event) => `${event.aggregateId}:${event.type}`).sort()).toEqual(
        ['t1:TodoAdded', 't1:TodoRenamed', 't2:TodoAdded'].sort(),
      );
      expect(await phone.strata.db.table('commands').count()).toBe(0);
      expect(await localEventIds(phone)).toEqual(sortedIds(stored));
    }, 30_000);
    const todos = await phone.todos();
    expect(todos.get('t1')?.title).toBe('renamed while offline');
    expect(phone.rejected).toEqual([]);
  }, 60_000);
});
