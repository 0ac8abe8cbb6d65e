import { isStrataError } from '@strata/core';
import { Todo } from '@strata/example-todo';
import { IDBFactory, IDBKeyRange, IDBObjectStore } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { todoList, todoTables } from '../../test/fixtures/todo-list.ts';
import { createStrata } from '../runtime/create-strata.ts';

const options = (indexedDB: IDBFactory) => ({
  name: 'todos',
  indexedDB,
  IDBKeyRange,
  tables: todoTables,
  projections: [todoList],
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('storage failures are typed errors and leave nothing half-written', () => {
  it('quota exceeded while executing: STORAGE_FAILED/QUOTA_EXCEEDED, nothing stored, later commands work', async () => {
    const strata = await createStrata(options(new IDBFactory()));
    await strata.execute(Todo, 't1', 'add', { title: 'Before' });
    const snapshotOf = async () => ({
      events: await strata.db.events.count(),
      pendingCommands: await strata.db.commands.count(),
      rows: await strata.db.table('todos').toArray(),
    });
    const before = await snapshotOf();

    // The projection's write is the one that hits the quota: the events written before it in the
    // same transaction must roll back with it.
    const realPut = IDBObjectStore.prototype.put;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (
      this: IDBObjectStore,
      ...args
    ) {
      if (this.name === 'todos')
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return realPut.apply(this, args);
    });
    const error = await strata
      .execute(Todo, 't2', 'add', { title: 'Too much' })
      .catch((e: unknown) => e);
    expect(isStrataError(error, 'STORAGE_FAILED')).toBe(true);
    expect(error).toMatchObject({ reason: 'QUOTA_EXCEEDED' });
    expect(await snapshotOf()).toEqual(before);

    vi.restoreAllMocks();
    await expect(strata.execute(Todo, 't2', 'add', { title: 'Fits now' })).resolves.toMatchObject({
      version: 1,
    });
    strata.close();
  });

  it('no IndexedDB at all: STORAGE_FAILED/UNAVAILABLE', async () => {
    expect(globalThis.indexedDB).toBeUndefined();
    await expect(createStrata({ name: 'todos' })).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      reason: 'UNAVAILABLE',
    });
  });

  it('IndexedDB refusing to open (private mode): STORAGE_FAILED/UNAVAILABLE', async () => {
    const privateMode = new IDBFactory();
    vi.spyOn(privateMode, 'open').mockImplementation(() => {
      throw new DOMException(
        'A mutation operation was attempted on a database that did not allow mutations.',
        'InvalidStateError',
      );
    });
    await expect(createStrata(options(privateMode))).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      reason: 'UNAVAILABLE',
    });
  });

  it('an upgrade blocked by another tab: STORAGE_FAILED/UPGRADE_BLOCKED, the old tab keeps working', async () => {
    const indexedDB = new IDBFactory();
    const oldTab = await createStrata(options(indexedDB));
    await oldTab.execute(Todo, 't1', 'add', { title: 'Old tab' });
    // Dexie closes on `versionchange` by default; a tab that does not (older code, or a raw
    // connection) blocks the upgrade.
    oldTab.db.on('versionchange', () => false);

    const upgrade = createStrata({
      ...options(indexedDB),
      tablesVersion: 2,
      blockedTimeoutMs: 100,
    });
    await expect(upgrade).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      reason: 'UPGRADE_BLOCKED',
    });
    await expect(oldTab.execute(Todo, 't1', 'complete', {})).resolves.toMatchObject({ version: 2 });
    oldTab.close();
  });
});
