// A device that syncs by scopes meets a server whose database was reset (issue 17): the scoped
// pull's log id differs, so it re-bootstraps like a whole-tenant device, reads each scope again
// from the start, and re-runs its pending commands once every scope is back. Against the real
// edge server on Postgres.
import 'fake-indexeddb/auto';
import { project } from '@strata/example-todo';
import { describe, expect, it } from 'vitest';
import { createTask, scopedTaskServerPerTest } from '../../test/fixtures/scoped-task-server.ts';
import { eventually, localEventIds, sortedIds } from '../../test/fixtures/sync-harness.ts';
import type { SyncStatus } from './sync-status.ts';

const { server: currentServer, device } = scopedTaskServerPerTest();

describe('scoped sync and a reset server', () => {
  it('re-bootstraps: the scope is read again, the pending command re-runs, nothing of the old log stays', async () => {
    const server = currentServer();
    const phone = await device('bob', 'bob-phone');
    const create = (id: string) => createTask(phone, id);
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
