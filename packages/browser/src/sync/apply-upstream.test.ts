import { newKsuid, type StoredEvent } from '@strata/core';
import { Todo } from '@strata/example-todo';
// Dexie's liveQuery only observes the global IndexedDB.
import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import { freshTodoStrata } from '../../test/fixtures/open-todo-strata.ts';
import { storedByServer } from '../../test/fixtures/server-events.ts';
import type { TodoRow } from '../../test/fixtures/todo-list.ts';
import type { Strata } from '../runtime/create-strata.ts';
import { applyUpstream } from './apply-upstream.ts';
import { syncContext, type UpstreamEvent } from './sync-context.ts';
import { createUpstreamWriter } from './upstream-writer.ts';

const open = freshTodoStrata('upstream');

describe('createUpstreamWriter', () => {
  it('counts the events it applies and says when our own came back (pushing may go on)', async () => {
    const strata = await open();
    const added = await strata.execute(Todo, 't1', 'add', { title: 'Buy milk' });
    const onUnblocked = vi.fn();
    const onRejected = vi.fn();
    const upstream = createUpstreamWriter(
      syncContext(strata, [Todo], () => 'id'),
      {
        onRejected,
        onUnblocked,
      },
    );
    // As the server sends them back: stored, with a server position.
    const upstreamOf = (event: object | undefined, position: number) =>
      ({ ...event, position, recordedAt: new Date().toISOString() }) as UpstreamEvent;

    const other = await open();
    const foreign = await other.execute(Todo, 't2', 'add', { title: 'Call mum' });
    await upstream.apply([upstreamOf(foreign.events[0], 1)], 'c1');
    expect(upstream.received()).toBe(1);
    expect(onUnblocked).not.toHaveBeenCalled();

    await upstream.apply([upstreamOf(added.events[0], 2)], 'c2');
    expect(upstream.received()).toBe(2);
    expect(onUnblocked).toHaveBeenCalledTimes(1);
    expect(await strata.pendingCommands()).toEqual([]);
    expect(onRejected).not.toHaveBeenCalled();
  });
});

const only = (events: readonly StoredEvent[]) => events[0] as StoredEvent;
const rows = async (strata: Strata) =>
  (await strata.db.events.toArray())
    .sort((a, b) => a.aggregateId.localeCompare(b.aggregateId) || a.version - b.version)
    .map((row) => [row.aggregateId, row.version, row.type, row.pending, row.id]);

describe('applyUpstream and our commands the server decided', () => {
  it("recognises our command by metadata.commandId: the server's events replace the prediction, later ones re-run once", async () => {
    const strata = await open();
    const context = syncContext(strata, [Todo], () => newKsuid());
    const added = await strata.execute(Todo, 't1', 'add', { title: 'Milk' });
    const completed = await strata.execute(Todo, 't1', 'complete', {});
    const [, complete] = await strata.pendingCommands();
    // Another id, the server's time and title: only metadata.commandId says it is our add.
    const decided = storedByServer(only(added.events), 8, { data: { title: 'Oat milk' } });

    const result = await applyUpstream(context, [decided], 'c1');
    expect(result.rebased).toEqual([{ aggregateType: 'Todo', aggregateId: 't1' }]);
    expect(result.rejected).toEqual([]);
    const log = await rows(strata);
    expect(log).toEqual([
      ['t1', 1, 'TodoAdded', 0, decided.id],
      ['t1', 2, 'TodoCompleted', 1, expect.any(String)],
    ]);
    expect(log[1]?.[4]).not.toBe(only(completed.events).id);
    // The add is not run again on top of its own result (it would be refused as a duplicate).
    expect(await strata.pendingCommands()).toEqual([{ ...complete, eventIds: [log[1]?.[4]] }]);
    expect(await strata.db.rejected.count()).toBe(0);
    expect(await strata.db.table<TodoRow>('todos').toArray()).toEqual([
      { id: 't1', title: 'Oat milk', status: 'completed' },
    ]);

    // Delivered again (a reconnect): nothing changes.
    await applyUpstream(context, [decided], 'c1');
    expect(await rows(strata)).toEqual(log);
  });

  it("does not take an event on another aggregate that carries our command's id for ours", async () => {
    const strata = await open();
    const context = syncContext(strata, [Todo], () => newKsuid());
    const added = await strata.execute(Todo, 't1', 'add', { title: 'Milk' });
    const pending = await strata.pendingCommands();
    const elsewhere = storedByServer(only(added.events), 4, { aggregateId: 't2' });

    const result = await applyUpstream(context, [elsewhere], 'c1');
    expect(result.rebased).toEqual([]);
    expect(await strata.pendingCommands()).toEqual(pending);
    expect(await rows(strata)).toEqual([
      ['t1', 1, 'TodoAdded', 1, only(added.events).id],
      ['t2', 1, 'TodoAdded', 0, elsewhere.id],
    ]);
  });
});
