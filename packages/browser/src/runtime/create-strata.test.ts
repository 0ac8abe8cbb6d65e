import { type InlineProjection, isStrataError } from '@strata/core';
import { Todo } from '@strata/example-todo';
// Dexie's liveQuery only observes the global IndexedDB, so these tests install fake-indexeddb
// globally and give each test its own database name.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { type TodoRow, todoList, todoTables } from '../../test/fixtures/todo-list.ts';
import type { StrataTransaction } from '../event-store/strata-transaction.ts';
import { createStrata, type Strata, type StrataOptions } from './create-strata.ts';

const opened: Strata[] = [];
afterEach(() => {
  for (const strata of opened.splice(0)) strata.close();
});

let databases = 0;
const freshName = () => `todos-${databases++}`;

/** A runtime on its own database; pass the same name again to reopen it ("reload"). */
async function open(name = freshName(), overrides: Partial<StrataOptions> = {}) {
  const strata = await createStrata({
    name,
    tables: todoTables,
    projections: [todoList],
    ...overrides,
  });
  opened.push(strata);
  return strata;
}

const rows = (strata: Strata) => strata.db.table<TodoRow>('todos').orderBy('id').toArray();

describe('createStrata', () => {
  it('executes offline: events, pending command and projection rows land together', async () => {
    const strata = await open();
    const added = await strata.execute(Todo, 't1', 'add', { title: 'Buy milk' });
    await strata.execute(Todo, 't1', 'complete', {});
    await strata.execute(Todo, 't2', 'add', { title: 'Call mum' });

    expect(added.state).toEqual({ status: 'active', title: 'Buy milk' });
    expect(await rows(strata)).toEqual([
      { id: 't1', title: 'Buy milk', status: 'completed' },
      { id: 't2', title: 'Call mum', status: 'active' },
    ]);
    const pending = await strata.pendingCommands();
    expect(pending.map((command) => [command.aggregateId, command.command, command.input])).toEqual(
      [
        ['t1', 'add', { title: 'Buy milk' }],
        ['t1', 'complete', {}],
        ['t2', 'add', { title: 'Call mum' }],
      ],
    );
    expect(pending[0]?.eventIds).toEqual(added.events.map((event) => event.id));
    const events = await strata.db.events.toArray();
    expect(
      events.every((event) => event.pending === 1 && event.metadata.clientId === strata.clientId),
    ).toBe(true);
  });

  it('is all or nothing: a failing projection leaves no events, pending command or rows', async () => {
    const failing: InlineProjection<StrataTransaction> = {
      name: 'fails-on-rename',
      aggregate: Todo,
      apply(event) {
        if (event.type === 'TodoRenamed') throw new Error('projection bug');
      },
    };
    const strata = await open(freshName(), { projections: [todoList, failing] });
    await strata.execute(Todo, 't1', 'add', { title: 'Buy milk' });
    await expect(strata.execute(Todo, 't1', 'rename', { title: 'Buy oat milk' })).rejects.toThrow(
      'projection bug',
    );

    expect(await strata.db.events.count()).toBe(1);
    expect(await strata.pendingCommands()).toHaveLength(1);
    expect(await rows(strata)).toEqual([{ id: 't1', title: 'Buy milk', status: 'active' }]);
    await expect(strata.execute(Todo, 't1', 'complete', {})).resolves.toMatchObject({ version: 2 });
  });

  it('reads history from a version with a limit, typed and decoded', async () => {
    const strata = await open();
    await strata.execute(Todo, 't1', 'add', { title: 'a' });
    for (const title of ['b', 'c', 'd']) await strata.execute(Todo, 't1', 'rename', { title });
    const history = await strata.history(Todo, 't1', { fromVersion: 2, limit: 2 });
    expect(history.map((event) => [event.version, event.type, event.data])).toEqual([
      [2, 'TodoRenamed', { title: 'b' }],
      [3, 'TodoRenamed', { title: 'c' }],
    ]);
  });

  it('writes a due snapshot in the command transaction and loads from it', async () => {
    const strata = await open();
    await strata.execute(Todo, 't1', 'add', { title: 'v1' });
    for (let i = 2; i <= 101; i++) await strata.execute(Todo, 't1', 'rename', { title: `v${i}` });
    const snapshot = await strata.store.loadSnapshot({ aggregateType: 'Todo', aggregateId: 't1' });
    expect(snapshot?.version).toBe(100);
    expect(await strata.load(Todo, 't1')).toMatchObject({
      state: { status: 'active', title: 'v101' },
      version: 101,
      snapshotVersion: 100,
    });
  });

  it('restores state, projections and client id after a reopen, before any network', async () => {
    const name = freshName();
    const first = await open(name);
    await first.execute(Todo, 't1', 'add', { title: 'Persisted' });
    await first.execute(Todo, 't1', 'complete', {});
    first.close();

    const second = await open(name);
    expect(second.clientId).toBe(first.clientId);
    expect((await second.load(Todo, 't1')).state).toEqual({
      status: 'completed',
      title: 'Persisted',
    });
    expect(await rows(second)).toEqual([{ id: 't1', title: 'Persisted', status: 'completed' }]);
  });

  it('live queries fire on changes, including changes made through another connection', async () => {
    const name = freshName();
    const tabA = await open(name);
    const tabB = await open(name);
    const seen: number[] = [];
    const versions: number[] = [];
    const list = tabA
      .live(() => tabA.db.table('todos').count())
      .subscribe((count) => seen.push(count));
    const state = tabA.liveState(Todo, 't1').subscribe((loaded) => versions.push(loaded.version));
    const waitFor = async (check: () => boolean) => {
      for (let i = 0; i < 200 && !check(); i++)
        await new Promise((resolve) => setTimeout(resolve, 5));
      expect(check()).toBe(true);
    };
    await waitFor(() => seen.length > 0 && versions.length > 0);
    await tabA.execute(Todo, 't1', 'add', { title: 'x' });
    await waitFor(() => seen.at(-1) === 1 && versions.at(-1) === 1);
    // fake-indexeddb has no BroadcastChannel between connections of one process, so this is
    // the same-tab path; the Chromium end-to-end tests cover two real pages.
    await tabB.execute(Todo, 't1', 'complete', {});
    await tabA.execute(Todo, 't2', 'add', { title: 'y' });
    await waitFor(() => seen.at(-1) === 2 && (versions.at(-1) ?? 0) >= 2);
    list.unsubscribe();
    state.unsubscribe();
  });

  it('two connections racing on one aggregate leave contiguous versions', async () => {
    const name = freshName();
    const tabA = await open(name);
    const tabB = await open(name, { conflictRetries: 20 });
    await tabA.execute(Todo, 't1', 'add', { title: 'start' });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 === 0 ? tabA : tabB).execute(Todo, 't1', 'rename', { title: `title ${i}` }),
      ),
    );
    const failures = outcomes.flatMap((outcome) =>
      outcome.status === 'rejected' ? [outcome.reason] : [],
    );
    expect(failures.every((error) => isStrataError(error, 'VERSION_CONFLICT'))).toBe(true);
    const versions = (await tabA.history(Todo, 't1')).map((event) => event.version);
    expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
    expect(versions).toHaveLength(1 + outcomes.length - failures.length);
  });

  it('commands on one aggregate from one tab run in order, none lost to a self-inflicted conflict', async () => {
    const strata = await open(freshName(), { conflictRetries: 0 });
    await strata.execute(Todo, 't1', 'add', { title: 'start' });
    const results = await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        strata.execute(Todo, 't1', 'rename', { title: `title ${i}` }),
      ),
    );
    expect(results.map((result) => result.version)).toEqual(
      Array.from({ length: 15 }, (_, i) => i + 2),
    );
    expect((await strata.load(Todo, 't1')).state.title).toBe('title 14');
  });

  it('a reused commandId is VALIDATION_FAILED and stores nothing', async () => {
    const strata = await open();
    await strata.execute(Todo, 't1', 'add', { title: 'x' }, { metadata: { commandId: 'cmd-1' } });
    await expect(
      strata.execute(Todo, 't1', 'rename', { title: 'y' }, { metadata: { commandId: 'cmd-1' } }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await strata.db.events.count()).toBe(1);
    expect((await strata.load(Todo, 't1')).state.title).toBe('x');
    // Neither the pending command nor the projection row of the refused command was kept.
    expect((await strata.pendingCommands()).map((row) => row.command)).toEqual(['add']);
    expect((await rows(strata)).map((row) => row.title)).toEqual(['x']);
    // The aggregate still takes commands at the next version.
    expect((await strata.execute(Todo, 't1', 'rename', { title: 'z' })).version).toBe(2);
  });

  it('rebuilds projections from the log with progress', async () => {
    const strata = await open();
    for (let i = 0; i < 30; i++) {
      await strata.execute(Todo, `t${String(i).padStart(2, '0')}`, 'add', { title: `todo ${i}` });
      if (i % 3 === 0) await strata.execute(Todo, `t${String(i).padStart(2, '0')}`, 'complete', {});
    }
    const live = await rows(strata);
    await strata.db.table('todos').clear();
    const progress: [number, number][] = [];
    const result = await strata.rebuildProjections({
      batchSize: 7,
      onProgress: ({ done, total }) => progress.push([done, total]),
    });
    expect(await rows(strata)).toEqual(live);
    expect(result).toEqual({ done: 40, total: 40 });
    expect(progress.map(([done]) => done)).toEqual([7, 14, 21, 28, 35, 40]);
  });

  it('a rebuild that fails midway leaves the old tables in place', async () => {
    let rebuilding = false;
    const flaky: InlineProjection<StrataTransaction> = {
      ...todoList,
      apply(event, tx) {
        if (rebuilding && event.aggregateId === 't3') throw new Error('bad event handler');
        return todoList.apply(event, tx);
      },
    };
    const strata = await open(freshName(), { projections: [flaky] });
    for (const id of ['t1', 't2', 't3', 't4']) await strata.execute(Todo, id, 'add', { title: id });
    const before = await rows(strata);
    rebuilding = true;
    await expect(strata.rebuildProjections({ batchSize: 1 })).rejects.toThrow('bad event handler');
    expect(await rows(strata)).toEqual(before);
  });

  it('loadAll replays an aggregate whose events are not in version order along the log', async () => {
    const strata = await open();
    await strata.execute(Todo, 'a', 'add', { title: 'A' });
    const [added] = await strata.db.events.toArray();
    if (added === undefined) throw new Error('no event');
    // Move the first event behind a later one, as an import after local events could.
    await strata.execute(Todo, 'a', 'complete', {});
    const { position, ...rest } = added;
    await strata.db.events.delete(position);
    await strata.db.events.add(rest as typeof added);
    const all = await strata.loadAll(Todo);
    expect(all.get('a')).toEqual({
      state: { status: 'completed', title: 'A' },
      version: 2,
      snapshotVersion: 0,
    });
  });

  it('replays every aggregate of a type with loadAll', async () => {
    const strata = await open();
    await strata.execute(Todo, 'a', 'add', { title: 'A' });
    await strata.execute(Todo, 'b', 'add', { title: 'B' });
    await strata.execute(Todo, 'a', 'complete', {});
    const all = await strata.loadAll(Todo);
    expect(
      Object.fromEntries([...all].map(([id, loaded]) => [id, [loaded.state, loaded.version]])),
    ).toEqual({
      a: [{ status: 'completed', title: 'A' }, 2],
      b: [{ status: 'active', title: 'B' }, 1],
    });
  });
});
