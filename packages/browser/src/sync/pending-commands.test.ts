import { Todo } from '@strata/example-todo';
// Dexie's liveQuery only observes the global IndexedDB.
import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import { freshTodoStrata } from '../../test/fixtures/open-todo-strata.ts';
import { watchPendingCommands } from './pending-commands.ts';

const open = freshTodoStrata('pending');

describe('watchPendingCommands', () => {
  it('tells at the start and after each new command, until unwatched', async () => {
    const strata = await open();
    const onChange = vi.fn();
    const unwatch = watchPendingCommands(strata.db, onChange);
    await vi.waitFor(() => expect(onChange).toHaveBeenCalledTimes(1));
    await strata.execute(Todo, 't1', 'add', { title: 'Buy milk' });
    await vi.waitFor(() => expect(onChange).toHaveBeenCalledTimes(2));
    unwatch();
    await strata.execute(Todo, 't2', 'add', { title: 'Call mum' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(onChange).toHaveBeenCalledTimes(2);
  });
});
