import { newKsuid } from '@strata/core';
import { Todo } from '@strata/example-todo';
import { describe, expect, it } from 'vitest';
import { cleanup, render } from 'vitest-browser-svelte';
import { bindingRuntimes } from '../../test/fixtures/binding-runtimes.ts';
import {
  countingStrata,
  countingSync,
  type SubscriptionCounts,
} from '../../test/fixtures/counting-live.ts';
import EveryBinding from '../../test/fixtures/svelte/EveryBinding.svelte';
import FailingQuery from '../../test/fixtures/svelte/FailingQuery.svelte';
import Orphan from '../../test/fixtures/svelte/Orphan.svelte';
import SyncView from '../../test/fixtures/svelte/SyncView.svelte';
import TodoBoard from '../../test/fixtures/svelte/TodoBoard.svelte';
import TodoView from '../../test/fixtures/svelte/TodoView.svelte';
import WithStrata from '../../test/fixtures/svelte/WithStrata.svelte';

const { openStrata, openOther, followingSync } = bindingRuntimes('svelte-bindings', cleanup);

describe('@strata/browser/svelte', () => {
  it('useLiveQuery and useExecute: a todo added through the form shows in the list', async () => {
    const counts: SubscriptionCounts = { opened: 0, open: 0 };
    const strata = countingStrata(await openStrata(), counts);
    const screen = await render(WithStrata, { strata, view: TodoBoard, status: 'active' });
    const titles = screen.getByTestId('titles');
    await expect.element(titles).toHaveTextContent('none');

    await screen.getByLabelText('New todo').fill('Buy milk');
    await screen.getByRole('button', { name: 'Add' }).click();
    await expect.element(titles).toHaveTextContent('Buy milk');
    await expect.element(screen.getByTestId('count')).toHaveTextContent('1 shown');
    await expect.element(screen.getByLabelText('New todo')).toHaveValue('');
    // Read by two expressions of the template: one subscription.
    expect(counts).toEqual({ opened: 1, open: 1 });
  });

  it('useLiveQuery shows a change another runtime on the same database makes', async () => {
    const strata = await openStrata();
    const other = await openOther(strata);
    const screen = await render(WithStrata, { strata, view: TodoBoard, status: 'active' });
    await expect.element(screen.getByTestId('titles')).toHaveTextContent('none');

    await other.execute(Todo, newKsuid(), 'add', { title: 'From elsewhere' });
    await expect.element(screen.getByTestId('titles')).toHaveTextContent('From elsewhere');
  });

  it('useLiveQuery subscribes anew when a dep changes, and ends the old subscription', async () => {
    const counts: SubscriptionCounts = { opened: 0, open: 0 };
    const strata = countingStrata(await openStrata(), counts);
    const id = newKsuid();
    await strata.execute(Todo, id, 'add', { title: 'Buy milk' });
    await strata.execute(Todo, newKsuid(), 'add', { title: 'Walk dog' });
    const screen = await render(WithStrata, { strata, view: TodoBoard, status: 'active' });
    const titles = screen.getByTestId('titles');
    await expect.element(titles).toHaveTextContent('Buy milk,Walk dog');

    await strata.execute(Todo, id, 'complete', {});
    await expect.element(titles).toHaveTextContent('Walk dog');
    await screen.rerender({ status: 'completed' });
    await expect.element(titles).toHaveTextContent('Buy milk');
    // The old query's subscription ends a microtask after its readers moved on.
    await expect.poll(() => ({ ...counts })).toEqual({ opened: 2, open: 1 });
  });

  it('useAggregateState and useHistory follow commands and a new id', async () => {
    const strata = await openStrata();
    const id = newKsuid();
    const screen = await render(WithStrata, { strata, view: TodoView, id });
    const todo = screen.getByTestId('todo');
    await expect.element(todo).toHaveTextContent('absent "" v0 |');

    await strata.execute(Todo, id, 'add', { title: 'Buy milk' });
    await expect.element(todo).toHaveTextContent('active "Buy milk" v1 | 1:TodoAdded');
    await strata.execute(Todo, id, 'rename', { title: 'Buy oat milk' });
    await strata.execute(Todo, id, 'complete', {});
    await expect
      .element(todo)
      .toHaveTextContent('completed "Buy oat milk" v3 | 1:TodoAdded 2:TodoRenamed 3:TodoCompleted');

    const next = newKsuid();
    await strata.execute(Todo, next, 'add', { title: 'Walk dog' });
    await screen.rerender({ id: next });
    await expect.element(todo).toHaveTextContent('active "Walk dog" v1 | 1:TodoAdded');
  });

  it('useSyncStatus and useRejectedCommands follow the sync client; dismiss removes a row', async () => {
    const strata = await openStrata();
    const sync = followingSync(strata);
    const screen = await render(WithStrata, { strata, sync, view: SyncView });
    await expect.element(screen.getByTestId('status')).toHaveTextContent('pending=0 leader=false');

    await strata.execute(Todo, newKsuid(), 'add', { title: 'Offline' });
    await expect.element(screen.getByTestId('status')).toHaveTextContent('pending=1');

    // A rejected command as a rebase records it (the server side is tested in the sync tiers).
    const seq = await strata.db.rejected.add({
      commandId: newKsuid(),
      aggregateType: 'Todo',
      aggregateId: newKsuid(),
      command: 'rename',
      input: { title: 'Too late' },
      metadata: {},
      eventIds: [],
      executedAt: new Date().toISOString(),
      code: 'DOMAIN_RULE_VIOLATED',
      reason: 'TODO_REMOVED',
      rejectedAt: new Date().toISOString(),
    });
    await expect.element(screen.getByText('rename: TODO_REMOVED')).toBeVisible();
    await screen.getByRole('button', { name: `Dismiss ${seq}` }).click();
    await expect.element(screen.getByTestId('rejected-count')).toHaveTextContent('0 rejected');
    expect(await strata.db.rejected.count()).toBe(0);
  });

  it('the sync functions are empty without a sync client', async () => {
    const strata = await openStrata();
    const screen = await render(WithStrata, { strata, view: SyncView });
    await expect.element(screen.getByTestId('status')).toHaveTextContent('pending= leader=');
    await expect.element(screen.getByTestId('rejected-count')).toHaveTextContent('0 rejected');
  });

  it('unmounting, or closing the block around them, ends every subscription', async () => {
    const counts: SubscriptionCounts = { opened: 0, open: 0 };
    const base = await openStrata();
    const strata = countingStrata(base, counts);
    const sync = countingSync(followingSync(base), counts);
    const id = newKsuid();
    const props = { strata, sync, view: EveryBinding, id, shown: true };
    const shown = async () => {
      await expect.element(screen.getByTestId('status')).toHaveTextContent('pending=0');
      await expect.element(screen.getByTestId('todo')).toHaveTextContent('absent');
    };
    let screen = await render(WithStrata, props);
    await shown();
    // Live query, aggregate state, history, status, rejected.
    expect(counts).toEqual({ opened: 5, open: 5 });

    await screen.rerender({ shown: false });
    await expect.element(screen.getByText('hidden')).toBeVisible();
    await expect.poll(() => counts.open).toBe(0);
    await screen.rerender({ shown: true });
    await shown();
    expect(counts).toEqual({ opened: 10, open: 5 });

    await screen.unmount();
    await expect.poll(() => counts.open).toBe(0);
    // Nothing is listening any more: a command now re-runs no query of the unmounted tree.
    await base.execute(Todo, id, 'add', { title: 'After unmount' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(counts).toEqual({ opened: 10, open: 0 });

    // A new tree reads the current data, not what the old one last saw.
    screen = await render(WithStrata, props);
    await expect.element(screen.getByTestId('todo')).toHaveTextContent('active "After unmount"');
  });

  it('a failed query throws where it is read: the <svelte:boundary> around it shows it', async () => {
    const strata = await openStrata();
    const screen = await render(WithStrata, { strata, view: FailingQuery });
    await expect
      .element(screen.getByTestId('failure'))
      .toHaveTextContent('failed: the query failed');
  });

  it('useStrata without a runtime throws a clear error', async () => {
    await expect(render(Orphan)).rejects.toThrow(
      'useStrata() needs a strata runtime: call setStrataContext({ strata }) in a parent component',
    );
  });
});
