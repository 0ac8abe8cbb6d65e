import { Todo } from '@strata/example-todo';
import { Dexie } from 'dexie';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { todoList } from '../../test/fixtures/todo-list.ts';
import { createStrata } from '../runtime/create-strata.ts';
import { openStrataDatabase } from './strata-database.ts';

describe('openStrataDatabase', () => {
  it('migrates app tables through Dexie versions, keeping events and rows', async () => {
    const indexedDB = new IDBFactory();
    const v1 = await createStrata({
      name: 'app',
      indexedDB,
      IDBKeyRange,
      tables: { todos: 'id' },
      projections: [todoList],
    });
    await v1.execute(Todo, 't1', 'add', { title: 'One' });
    await v1.execute(Todo, 't2', 'add', { title: 'Two' });
    await v1.execute(Todo, 't2', 'complete', {});
    v1.close();

    const v2 = await createStrata({
      name: 'app',
      indexedDB,
      IDBKeyRange,
      tables: { todos: 'id, status', counters: 'name' },
      tablesVersion: 2,
      projections: [todoList],
      upgrade: async (tx) => {
        const count = await tx.table('todos').count();
        await tx.table('counters').put({ name: 'todos', value: count });
      },
    });
    expect(await v2.db.events.count()).toBe(3);
    expect(await v2.db.table('todos').where('status').equals('completed').primaryKeys()).toEqual([
      't2',
    ]);
    expect(await v2.db.table('counters').get('todos')).toEqual({ name: 'todos', value: 2 });
    expect((await v2.load(Todo, 't2')).state.status).toBe('completed');
    v2.close();
  });

  it('upgrades a database of the v4 schema: the events lose the pending index, nothing else', async () => {
    const indexedDB = new IDBFactory();
    // The v4 schema as it shipped, with an app table at app version 1.
    const old = new Dexie('v4', { indexedDB, IDBKeyRange });
    old.version(4001).stores({
      events: '++position, &id, &[aggregateType+aggregateId+version], pending',
      snapshots: '&[aggregateType+aggregateId]',
      bases: '&[aggregateType+aggregateId]',
      commands: '++seq, &commandId, [aggregateType+aggregateId], *eventIds',
      rejected: '++seq, commandId',
      syncState: '&key',
      scopeMembers: '&[scope+aggregateType+aggregateId], [aggregateType+aggregateId], scope',
      todos: 'id',
    });
    await old.open();
    const v4 = await createStrata({
      name: 'v4-seed',
      indexedDB,
      IDBKeyRange,
      tables: { todos: 'id' },
      projections: [todoList],
    });
    await v4.execute(Todo, 't1', 'add', { title: 'Kept' });
    await old.table('events').bulkAdd(await v4.db.events.toArray());
    await old.table('commands').bulkAdd(await v4.db.commands.toArray());
    await old.table('todos').bulkAdd(await v4.db.table('todos').toArray());
    v4.close();
    old.close();

    const upgraded = await createStrata({
      name: 'v4',
      indexedDB,
      IDBKeyRange,
      tables: { todos: 'id' },
      projections: [todoList],
    });
    const idb = upgraded.db.backendDB();
    expect([...idb.transaction('events').objectStore('events').indexNames].sort()).toEqual([
      '[aggregateType+aggregateId+version]',
      'id',
    ]);
    expect((await upgraded.load(Todo, 't1')).state.title).toBe('Kept');
    expect(await upgraded.pendingCommands()).toHaveLength(1);
    expect(await upgraded.db.table('todos').toArray()).toEqual([
      { id: 't1', title: 'Kept', status: 'active' },
    ]);
    expect((await upgraded.execute(Todo, 't1', 'complete', {})).version).toBe(2);
    upgraded.close();
  });

  it('upgrades a database of the v5 schema with data: the unreadable table comes, app rows stay', async () => {
    const indexedDB = new IDBFactory();
    // The v5 schema as it shipped, app tables at app version 1 (5001).
    const old = new Dexie('v5', { indexedDB, IDBKeyRange });
    old.version(5001).stores({
      events: '++position, &id, &[aggregateType+aggregateId+version]',
      snapshots: '&[aggregateType+aggregateId]',
      bases: '&[aggregateType+aggregateId]',
      commands: '++seq, &commandId, [aggregateType+aggregateId], *eventIds',
      rejected: '++seq, commandId',
      syncState: '&key',
      scopeMembers: '&[scope+aggregateType+aggregateId], [aggregateType+aggregateId], scope',
      todos: 'id',
    });
    await old.open();
    const seed = await createStrata({
      name: 'v5-seed',
      indexedDB,
      IDBKeyRange,
      tables: { todos: 'id' },
      projections: [todoList],
    });
    await seed.execute(Todo, 't1', 'add', { title: 'Kept' });
    await seed.execute(Todo, 't1', 'complete', {});
    await old.table('events').bulkAdd(await seed.db.events.toArray());
    await old.table('commands').bulkAdd(await seed.db.commands.toArray());
    await old.table('todos').bulkAdd(await seed.db.table('todos').toArray());
    await old.table('syncState').put({ key: 'cursor', value: 'c42' });
    seed.close();
    old.close();

    const upgraded = await createStrata({
      name: 'v5',
      indexedDB,
      IDBKeyRange,
      tables: { todos: 'id' },
      projections: [todoList],
    });
    expect(upgraded.db.verno).toBe(6001);
    const idb = upgraded.db.backendDB();
    expect([...idb.transaction('unreadable').objectStore('unreadable').indexNames]).toEqual([
      '[aggregateType+aggregateId+version]',
    ]);
    expect(await upgraded.db.unreadable.count()).toBe(0);
    expect(await upgraded.db.events.count()).toBe(2);
    expect(await upgraded.pendingCommands()).toHaveLength(2);
    expect(await upgraded.db.syncState.get('cursor')).toEqual({ key: 'cursor', value: 'c42' });
    expect(await upgraded.db.table('todos').toArray()).toEqual([
      { id: 't1', title: 'Kept', status: 'completed' },
    ]);
    expect((await upgraded.execute(Todo, 't1', 'reopen', {})).version).toBe(3);
    upgraded.close();
  });

  it('refuses app tables that would shadow strata tables, and bad versions', async () => {
    const indexedDB = new IDBFactory();
    await expect(
      openStrataDatabase({ name: 'x', indexedDB, IDBKeyRange, tables: { events: 'id' } }),
    ).rejects.toThrow(/reserved/);
    await expect(
      openStrataDatabase({ name: 'x', indexedDB, IDBKeyRange, tablesVersion: 0 }),
    ).rejects.toThrow(RangeError);
  });
});
