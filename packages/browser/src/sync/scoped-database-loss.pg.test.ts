// The local database of a device that syncs by scopes deleted under the running app (issue 17,
// database-loss.pg.test.ts for whole-tenant sync): the scope rows went with it, so the device
// re-bootstrapped into a set of no scopes, held nothing and said so until the app started
// again. Now the scopes it asked for are set up again in the new database, read from the
// start, and its pushes held in memory re-run once they are back. Real edge server on
// Postgres, the database deleted through IndexedDB's own API (fake-indexeddb).
import 'fake-indexeddb/auto';
import { project, Task } from '@strata/example-todo';
import { describe, expect, it } from 'vitest';
import { createTask, scopedTaskServerPerTest } from '../../test/fixtures/scoped-task-server.ts';
import {
  deleteDatabaseNamed,
  deleteLocalDatabase,
  eventually,
  localEventIds,
  sortedIds,
} from '../../test/fixtures/sync-harness.ts';
import { DATABASE_LOST_REASON } from './database-loss.ts';
import { readScopeStates, writeScopeStates } from './scope-set.ts';
import type { SyncStatus } from './sync-status.ts';

const { server, device } = scopedTaskServerPerTest();

const p1 = project({ projectId: 'p1' }).key;

describe('the local database of a scoped device deleted under the running app', () => {
  it('asks for its scopes again: ends with exactly their events, rows and projection, its held push re-run', async () => {
    const phone = await device('bob', 'bob-phone');
    const statuses: SyncStatus[] = [];
    phone.sync.status.subscribe({ next: (status) => statuses.push(status) });
    await createTask(phone, 't1');
    await createTask(phone, 't2');
    await phone.sync.whenSynced();
    await eventually(async () => expect(statuses.at(-1)?.scopes?.held).toEqual([p1]));

    // Offline: the push of a new task fails and the tab holds it in memory.
    phone.network.setOnline(false);
    await createTask(phone, 't3');
    phone.sync.syncNow();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = statuses.length;
    await deleteLocalDatabase(phone);
    await new Promise((resolve) => setTimeout(resolve, 300));

    // Another device writes into p1 and into a project the phone does not hold.
    const laptop = await device('ann', 'ann-laptop', [
      project({ projectId: 'p1' }),
      project({ projectId: 'p2' }),
    ]);
    await createTask(laptop, 't4');
    await laptop.strata.execute(Task, 'x1', 'create', {
      projectId: 'p2',
      title: 'elsewhere',
      assignee: 'ann',
    });
    await laptop.sync.whenSynced();

    phone.network.setOnline(true);
    phone.sync.syncNow();
    await eventually(async () => {
      const stored = await server().events();
      expect(stored.map((event) => event.aggregateId).sort()).toEqual([
        't1',
        't2',
        't3',
        't4',
        'x1',
      ]);
      expect(await phone.strata.db.table('commands').count()).toBe(0);
      const inP1 = stored.filter((event) => event.aggregateId !== 'x1');
      expect(await localEventIds(phone)).toEqual(sortedIds(inP1));
    }, 30_000);
    await phone.sync.whenSynced();

    const members = await phone.strata.db.scopeMembers.toArray();
    expect(members.map((row) => `${row.scope} ${row.aggregateId}`).sort()).toEqual(
      ['t1', 't2', 't3', 't4'].map((id) => `${p1} ${id}`),
    );
    const rows = await phone.strata.db.table('tasks').toArray();
    expect(rows.map((row: { id: string }) => row.id).sort()).toEqual(['t1', 't2', 't3', 't4']);
    expect(phone.rejected).toEqual([]);
    expect(statuses.at(-1)?.scopes).toEqual({ held: [p1], backfilling: [], refused: [] });
    // It said what happened.
    const after = statuses.slice(before);
    expect(after.some((s) => s.rebootstrap?.reason === DATABASE_LOST_REASON)).toBe(true);
    // Another tab of the app adds a scope after the loss (a row written to the shared database):
    // this tab's watch of the scope rows still runs, so it back-fills it.
    const p2 = project({ projectId: 'p2' }).key;
    await writeScopeStates(phone.strata.db, [{ key: p2, complete: false }]);
    await eventually(async () => {
      expect(statuses.at(-1)?.scopes?.held).toEqual([p1, p2].sort());
      const rows = await phone.strata.db.table('tasks').toArray();
      expect(rows.map((row: { id: string }) => row.id).sort()).toEqual([
        't1',
        't2',
        't3',
        't4',
        'x1',
      ]);
    });
    // Still the same device, in the new database.
    expect((await phone.strata.db.table('syncState').get('clientId'))?.value).toBe(
      phone.strata.clientId,
    );
  }, 60_000);
});

describe('the local database of a scoped device deleted during its first start', () => {
  // The start writes the set it was given while the watch of the scope rows takes its first
  // read. Here the delete is asked for as that write begins: the set lands in the database being
  // deleted, and the watch had read the set before it (none). The device asked for none again
  // and held nothing until its next start (fails with the watch's first read not deferred).
  it('asks for the scopes given at start', async () => {
    const laptop = await device('ann', 'ann-laptop');
    await createTask(laptop, 't1');
    await laptop.sync.whenSynced();

    // Dexie's Table.prototype, shared by every database (each has a subclass of its own).
    const table = Object.getPrototypeOf(Object.getPrototypeOf(laptop.strata.db.syncState)) as {
      bulkPut: (this: { db: { name: string } }, rows: { key: string }[]) => Promise<unknown>;
    };
    const bulkPut = table.bulkPut;
    let deleted: Promise<void> | undefined;
    table.bulkPut = function (rows) {
      if (
        deleted === undefined &&
        this.db.name.startsWith('bob-phone') &&
        rows.some((row) => row.key.startsWith('scope:'))
      ) {
        deleted = deleteDatabaseNamed(this.db.name);
      }
      return bulkPut.call(this, rows);
    };
    try {
      const phone = await device('bob', 'bob-phone');
      const statuses: SyncStatus[] = [];
      phone.sync.status.subscribe({ next: (status) => statuses.push(status) });
      await eventually(async () => expect(deleted).toBeDefined());
      await deleted;

      await eventually(async () => {
        expect(statuses.at(-1)?.scopes?.held).toEqual([p1]);
        const rows = await phone.strata.db.table('tasks').toArray();
        expect(rows.map((row: { id: string }) => row.id)).toEqual(['t1']);
      });
      await phone.sync.whenSynced();
      expect((await readScopeStates(phone.strata.db)).map((state) => state.key)).toEqual([p1]);
      expect(await localEventIds(phone)).toEqual(sortedIds(await server().events()));
      expect(statuses.some((s) => s.rebootstrap?.reason === DATABASE_LOST_REASON)).toBe(true);
    } finally {
      table.bulkPut = bulkPut;
    }
  }, 60_000);
});
