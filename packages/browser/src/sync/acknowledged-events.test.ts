// Acknowledged events are not rewritten (issue 16): the server's acknowledgement deletes the
// pending command rows, and an event row that says `pending: 1` is pending only while a pending
// command lists it. Every reader of the rows must tell them apart, before and after a reload.
import { type CommandPushResponse, newKsuid, type StoredEvent } from '@strata/core';
import { Todo } from '@strata/example-todo';
// Dexie's liveQuery only observes the global IndexedDB.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { freshTodoStrata } from '../../test/fixtures/open-todo-strata.ts';
import { storedAsPredicted } from '../../test/fixtures/server-events.ts';
import { syncedRows } from '../../test/fixtures/synced-rows.ts';
import { type TodoRow, todoList, todoTables } from '../../test/fixtures/todo-list.ts';
import { createStrata, type Strata } from '../runtime/create-strata.ts';
import { applyUpstream } from './apply-upstream.ts';
import { noteHoles } from './history-holes.ts';
import { pendingIdsAmong } from './pending-commands.ts';
import { applyPushResults, collectCommits } from './push-pending-commands.ts';
import { type SyncContext, syncContext } from './sync-context.ts';

const open = freshTodoStrata('acknowledged');

const only = (events: readonly StoredEvent[]) => events[0] as StoredEvent;
const contextOf = (strata: Strata) => syncContext(strata, [Todo], () => newKsuid());
const todos = (strata: Strata) => strata.db.table<TodoRow, string>('todos').toArray();

/** The aggregate's rows in version order: [version, type, pending as sync means it, id]. */
async function log(strata: Strata, aggregateId = 't1') {
  return (await syncedRows(strata.db))
    .filter((row) => row.aggregateId === aggregateId)
    .sort((a, b) => a.version - b.version)
    .map((row) => [row.version, row.type, row.pending, row.id]);
}

/** Pushes the oldest `count` commands; the server stores each exactly as predicted. */
async function acknowledge(context: SyncContext, count: number, firstPosition = 1) {
  const commits = await collectCommits(context, 500, count);
  const response: CommandPushResponse = {
    protocol: 2,
    results: commits.map((commit, i) => ({
      commitId: commit.commitId,
      status: 'accepted',
      events: commit.events.map((event, at) =>
        storedAsPredicted(event as unknown as StoredEvent, firstPosition + i + at),
      ),
    })),
  };
  return { commits, response, outcome: await applyPushResults(context, commits, response) };
}

/** Someone else's add and rename of `aggregateId` (versions 1 and 2), as another device made them. */
async function foreignHistory(aggregateId: string) {
  const other = await open();
  const add = only((await other.execute(Todo, aggregateId, 'add', { title: 'Milk' })).events);
  const rename = only(
    (await other.execute(Todo, aggregateId, 'rename', { title: 'Whole milk' })).events,
  );
  return { add, rename };
}

describe('acknowledged events, rows not rewritten', () => {
  it('an upstream copy of our event after the ack changes nothing: no row written, nothing rebased or projected again', async () => {
    const strata = await open();
    const context = contextOf(strata);
    const added = only((await strata.execute(Todo, 't1', 'add', { title: 'Milk' })).events);
    await acknowledge(context, 10, 5);
    const rows = await strata.db.events.toArray();
    const projected = await todos(strata);
    // The row still reads as appended here; no pending command lists it.
    expect(rows.map((row) => row.pending)).toEqual([1]);
    expect(await pendingIdsAmong(strata.db, rows)).toEqual(new Set());

    const result = await applyUpstream(context, [storedAsPredicted(added, 5)], 'c1');
    expect(result).toEqual({ imported: 0, confirmed: 0, rebased: [], rejected: [] });
    expect(await strata.db.events.toArray()).toEqual(rows);
    expect(await todos(strata)).toEqual(projected);
    expect(await strata.pendingCommands()).toEqual([]);
  });

  it('an upstream copy before the ack confirms the command (no row written); the ack then changes nothing', async () => {
    const strata = await open();
    const context = contextOf(strata);
    const added = only((await strata.execute(Todo, 't1', 'add', { title: 'Milk' })).events);
    const commits = await collectCommits(context, 500, 10);
    const rows = await strata.db.events.toArray();

    const result = await applyUpstream(context, [storedAsPredicted(added, 5)], 'c1');
    expect(result).toEqual({ imported: 0, confirmed: 1, rebased: [], rejected: [] });
    expect(await strata.pendingCommands()).toEqual([]);
    expect(await strata.db.events.toArray()).toEqual(rows);

    const outcome = await applyPushResults(context, commits, {
      protocol: 2,
      results: [
        {
          commitId: commits[0]?.commitId as string,
          status: 'accepted',
          events: [storedAsPredicted(added, 5)],
        },
      ],
    });
    expect(outcome).toEqual({ accepted: 1, conflicts: [], rejected: [], retryLater: 0 });
    expect(await strata.db.events.toArray()).toEqual(rows);
    expect(await log(strata)).toEqual([[1, 'TodoAdded', 0, added.id]]);
    expect(await collectCommits(context, 500, 10)).toEqual([]);
  });

  it('part of a command’s events upstream: that part is marked confirmed on its rows, the rest stays pending and is pushed alone', async () => {
    const strata = await open();
    const context = contextOf(strata);
    const added = only((await strata.execute(Todo, 't1', 'add', { title: 'Milk' })).events);
    const renamed = only((await strata.execute(Todo, 't1', 'rename', { title: 'Oat' })).events);
    // One command of two events, as a command deciding both would leave it.
    const [first, second] = await strata.pendingCommands();
    await strata.db.commands.update(first?.seq as number, { eventIds: [added.id, renamed.id] });
    await strata.db.commands.delete(second?.seq as number);

    const result = await applyUpstream(context, [storedAsPredicted(added, 7)], 'c1');
    expect(result.confirmed).toBe(1);
    const rows = await strata.db.events.orderBy('position').toArray();
    expect(rows.map((row) => [row.version, row.pending, row.serverPosition])).toEqual([
      [1, 0, 7],
      [2, 1, undefined],
    ]);
    const [commit] = await collectCommits(context, 500, 10);
    expect(commit?.events.map((event) => event.id)).toEqual([renamed.id]);

    await applyUpstream(context, [storedAsPredicted(renamed, 8)], 'c2');
    expect(await strata.pendingCommands()).toEqual([]);
    expect((await log(strata)).map((row) => row[2])).toEqual([0, 0]);
  });

  it('a conflict after an ack: the acknowledged event stays, only the prediction after it is rebased', async () => {
    const strata = await open();
    const context = contextOf(strata);
    const added = only((await strata.execute(Todo, 't1', 'add', { title: 'Milk' })).events);
    await strata.execute(Todo, 't1', 'rename', { title: 'Oat milk' });
    await acknowledge(context, 1, 1);
    // Someone renamed it first: their version 2 comes upstream.
    const { rename } = await foreignHistory('t1');
    const result = await applyUpstream(context, [storedAsPredicted(rename, 2)], 'c1');

    expect(result.rebased).toEqual([{ aggregateType: 'Todo', aggregateId: 't1' }]);
    const rows = await log(strata);
    expect(rows).toEqual([
      [1, 'TodoAdded', 0, added.id],
      [2, 'TodoRenamed', 0, rename.id],
      [3, 'TodoRenamed', 1, expect.any(String)],
    ]);
    const [command] = await strata.pendingCommands();
    expect(command?.eventIds).toEqual([rows[2]?.[3]]);
    expect(await todos(strata)).toEqual([{ id: 't1', title: 'Oat milk', status: 'active' }]);
    const [commit] = await collectCommits(context, 500, 10);
    expect(commit?.events.map((event) => [event.version, event.id])).toEqual([[3, rows[2]?.[3]]]);
  });

  it('after a reload the acknowledged events are still confirmed: never pushed again, kept by a rebase', async () => {
    const strata = await open();
    const added = only((await strata.execute(Todo, 't1', 'add', { title: 'Milk' })).events);
    await strata.execute(Todo, 't2', 'add', { title: 'Bread' });
    await acknowledge(contextOf(strata), 1, 1);
    const name = strata.db.name;
    strata.close();

    const reopened = await createStrata({ name, tables: todoTables, projections: [todoList] });
    try {
      const context = contextOf(reopened);
      const commits = await collectCommits(context, 500, 10);
      expect(commits.map((commit) => commit.command.aggregateId)).toEqual(['t2']);
      expect(await log(reopened)).toEqual([[1, 'TodoAdded', 0, added.id]]);

      await reopened.execute(Todo, 't1', 'rename', { title: 'Oat milk' });
      const { rename } = await foreignHistory('t1');
      await applyUpstream(context, [storedAsPredicted(rename, 2)], 'c1');
      expect(
        (await log(reopened)).map(([version, type, pending]) => [version, type, pending]),
      ).toEqual([
        [1, 'TodoAdded', 0],
        [2, 'TodoRenamed', 0],
        [3, 'TodoRenamed', 1],
      ]);
      expect((await reopened.loadAll(Todo)).get('t1')?.version).toBe(3);
    } finally {
      reopened.close();
    }
  });

  it('history holes: an acknowledged event below a batch counts as confirmed, a pending one does not', async () => {
    const strata = await open();
    const context = contextOf(strata);
    await strata.execute(Todo, 't1', 'add', { title: 'Milk' });
    const { rename } = await foreignHistory('t1');
    const next = storedAsPredicted(rename, 2);
    // An async callback: Dexie keeps its transaction across the awaits inside.
    const holes = () =>
      strata.db.transaction('rw', strata.db.tables, async () => await noteHoles(strata.db, [next]));

    expect(await holes()).toEqual([{ aggregateType: 'Todo', aggregateId: 't1' }]);
    await acknowledge(context, 10, 1);
    expect(await holes()).toEqual([]);
  });
});
