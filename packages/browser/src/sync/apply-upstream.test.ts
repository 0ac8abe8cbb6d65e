import { Todo } from '@strata/example-todo';
// Dexie's liveQuery only observes the global IndexedDB.
import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import { freshTodoStrata } from '../../test/fixtures/open-todo-strata.ts';
import { createUpstreamWriter } from './apply-upstream.ts';
import { syncContext, type UpstreamEvent } from './sync-context.ts';

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
