import { Todo } from '@strata/example-todo';
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
