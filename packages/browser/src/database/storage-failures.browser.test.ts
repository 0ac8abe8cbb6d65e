import { isStrataError } from '@strata/core';
import { Todo } from '@strata/example-todo';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { todoList, todoTables } from '../../test/fixtures/todo-list.ts';
import { createStrata } from '../runtime/create-strata.ts';

// The same failures as storage-failures.test.ts, on Chromium's real IndexedDB. Chromium will
// not run out of quota on demand, so the quota error is injected where IndexedDB raises it.
const options = () => ({
  name: `failures-${Date.now()}-${Math.random().toString(36).slice(2)}`,
  tables: todoTables,
  projections: [todoList],
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('storage failures in Chromium', () => {
  it('quota exceeded mid-transaction rolls back everything and the app keeps working', async () => {
    const strata = await createStrata(options());
    await strata.execute(Todo, 't1', 'add', { title: 'Before' });
    const realPut = IDBObjectStore.prototype.put;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (
      this: IDBObjectStore,
      ...args
    ) {
      if (this.name === 'todos') throw new DOMException('Quota exceeded', 'QuotaExceededError');
      return realPut.apply(this, args);
    });
    const error = await strata
      .execute(Todo, 't2', 'add', { title: 'Too much' })
      .catch((e: unknown) => e);
    expect(isStrataError(error, 'STORAGE_FAILED') && error.reason).toBe('QUOTA_EXCEEDED');
    expect(await strata.db.events.count()).toBe(1);
    expect(await strata.db.commands.count()).toBe(1);
    expect(await strata.db.table('todos').count()).toBe(1);

    vi.restoreAllMocks();
    await expect(strata.execute(Todo, 't2', 'add', { title: 'Fits' })).resolves.toMatchObject({
      version: 1,
    });
    strata.close();
    await strata.db.delete();
  });

  it('an upgrade blocked by another connection is UPGRADE_BLOCKED; the old one keeps working', async () => {
    const base = options();
    const oldTab = await createStrata(base);
    oldTab.db.on('versionchange', () => false);
    await expect(
      createStrata({ ...base, tablesVersion: 2, blockedTimeoutMs: 200 }),
    ).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      reason: 'UPGRADE_BLOCKED',
    });
    await expect(oldTab.execute(Todo, 't1', 'add', { title: 'Still here' })).resolves.toMatchObject(
      { version: 1 },
    );
    oldTab.close();
  });
});
