import { newKsuid } from '@strata/core';
import { Todo } from '@strata/example-todo';
import { act, createElement, type ReactNode, StrictMode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import { type TodoRow, todoList, todoTables } from '../../test/fixtures/todo-list.ts';
import { createStrata, type Strata } from '../runtime/create-strata.ts';
import type { LiveSubscribable } from '../runtime/live-state.ts';
import type { LockManagerLike } from '../sync/leader-lock.ts';
import { startSync } from '../sync/start-sync.ts';
import {
  StrataProvider,
  useAggregateState,
  useExecute,
  useHistory,
  useLiveQuery,
  useRejectedCommands,
  useStrata,
  useSyncStatus,
} from './index.ts';

// Tells React that act() is in use, so updates inside it flush before it resolves.
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openStrata(): Promise<Strata> {
  const strata = await createStrata({
    name: `react-hooks-${newKsuid()}`,
    tables: todoTables,
    projections: [todoList],
  });
  cleanups.push(async () => {
    strata.close();
    await strata.db.delete();
  });
  return strata;
}

/** Renders `element` into a fresh container; unmounted after the test. */
async function render(element: ReactNode) {
  const container = document.createElement('div');
  document.body.append(container);
  const root: Root = createRoot(container);
  await act(() => root.render(element));
  let mounted = true;
  const unmount = () => {
    if (!mounted) return;
    mounted = false;
    act(() => root.unmount());
    container.remove();
  };
  cleanups.push(unmount);
  return {
    container,
    rerender: (next: ReactNode) => act(() => root.render(next)),
    unmount,
  };
}

/** Retries `assertion` until it passes, letting live queries deliver inside act(). */
async function eventually(assertion: () => void, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      assertion();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await act(() => new Promise((resolve) => setTimeout(resolve, 10)));
  }
}

/** The runtime with `live` wrapped to count subscriptions, to see what the hooks leave open. */
function countingLive(strata: Strata) {
  const counts = { opened: 0, open: 0 };
  const live = <T>(query: () => T | Promise<T>): LiveSubscribable<T> => {
    const source = strata.live(query);
    return {
      subscribe(observer) {
        const subscription = source.subscribe(observer);
        counts.opened++;
        counts.open++;
        return {
          unsubscribe() {
            counts.open--;
            subscription.unsubscribe();
          },
        };
      },
    };
  };
  return { strata: { ...strata, live } satisfies Strata, counts };
}

function TodoTitles({ status }: { readonly status: TodoRow['status'] }) {
  const strata = useStrata();
  const rows = useLiveQuery(
    () => strata.db.table<TodoRow, string>('todos').where('status').equals(status).toArray(),
    [status],
  );
  if (rows === undefined) return 'loading';
  return (
    rows
      .map((row) => row.title)
      .sort()
      .join(',') || 'none'
  );
}

/** A Web Lock that is never granted; the request ends when it is aborted. */
const NEVER: LockManagerLike = {
  request: (_name, { signal }) =>
    new Promise((_granted, reject) => {
      signal?.addEventListener('abort', () => reject(signal.reason));
    }),
};

function TodoView({ id }: { readonly id: string }) {
  const todo = useAggregateState(Todo, id);
  const history = useHistory(Todo, id);
  if (todo === undefined || history === undefined) return 'loading';
  const events = history.map((event) => `${event.version}:${event.type}`).join(' ');
  return `${todo.state.status} "${todo.state.title}" v${todo.version} | ${events}`;
}

function Executor(props: {
  readonly label: string;
  readonly onRender: (execute: Strata['execute']) => void;
}) {
  props.onRender(useExecute());
  return props.label;
}

function Orphan() {
  useStrata();
  return null;
}

function SyncView(props: {
  readonly onDismiss?: (dismiss: (seq: number) => Promise<void>) => void;
}) {
  const status = useSyncStatus();
  const { rejected, dismiss } = useRejectedCommands();
  props.onDismiss?.(dismiss);
  const rows = rejected.map((row) => `${row.seq}:${row.command}:${row.reason}`);
  return `pending=${status?.pending} leader=${status?.leader} rejected=[${rows.join(',')}]`;
}

describe('@strata/browser/react', () => {
  it('useLiveQuery updates after execute and re-subscribes when its deps change', async () => {
    const { strata, counts } = countingLive(await openStrata());
    const view = (status: TodoRow['status']) =>
      createElement(StrataProvider, { strata }, createElement(TodoTitles, { status }));
    const { container, rerender } = await render(view('active'));
    await eventually(() => expect(container.textContent).toBe('none'));

    const id = newKsuid();
    await act(() => strata.execute(Todo, id, 'add', { title: 'Buy milk' }));
    await eventually(() => expect(container.textContent).toBe('Buy milk'));
    await act(() => strata.execute(Todo, newKsuid(), 'add', { title: 'Walk dog' }));
    await eventually(() => expect(container.textContent).toBe('Buy milk,Walk dog'));
    expect(counts).toEqual({ opened: 1, open: 1 });

    await act(() => strata.execute(Todo, id, 'complete', {}));
    await rerender(view('completed'));
    await eventually(() => expect(container.textContent).toBe('Buy milk'));
    expect(counts).toEqual({ opened: 2, open: 1 });
  });

  it('unsubscribes on unmount, also under StrictMode', async () => {
    const { strata, counts } = countingLive(await openStrata());
    const { container, unmount } = await render(
      createElement(
        StrictMode,
        null,
        createElement(StrataProvider, { strata }, createElement(TodoTitles, { status: 'active' })),
      ),
    );
    await eventually(() => expect(container.textContent).toBe('none'));
    expect(counts.open).toBe(1);
    unmount();
    expect(counts.open).toBe(0);
  });

  it('useAggregateState and useHistory follow commands', async () => {
    const strata = await openStrata();
    const id = newKsuid();
    const { container } = await render(
      createElement(StrataProvider, { strata }, createElement(TodoView, { id })),
    );
    await eventually(() => expect(container.textContent).toBe('absent "" v0 | '));

    await act(() => strata.execute(Todo, id, 'add', { title: 'Buy milk' }));
    await eventually(() =>
      expect(container.textContent).toBe('active "Buy milk" v1 | 1:TodoAdded'),
    );
    await act(async () => {
      await strata.execute(Todo, id, 'rename', { title: 'Buy oat milk' });
      await strata.execute(Todo, id, 'complete', {});
    });
    await eventually(() =>
      expect(container.textContent).toBe(
        'completed "Buy oat milk" v3 | 1:TodoAdded 2:TodoRenamed 3:TodoCompleted',
      ),
    );
  });

  it('useExecute is stable across renders and runs commands', async () => {
    const strata = await openStrata();
    const seen = new Set<Strata['execute']>();
    let execute: Strata['execute'] | undefined;
    const onRender = (current: Strata['execute']) => {
      execute = current;
      seen.add(current);
    };
    const view = (label: string) =>
      createElement(StrataProvider, { strata }, createElement(Executor, { label, onRender }));
    const { rerender } = await render(view('a'));
    await rerender(view('b'));
    expect(seen.size).toBe(1);

    const id = newKsuid();
    const result = await execute?.(Todo, id, 'add', { title: 'Through the hook' });
    expect(result?.state).toEqual({ status: 'active', title: 'Through the hook' });
  });

  it('useStrata outside a provider throws a clear error', async () => {
    const root = createRoot(document.createElement('div'));
    cleanups.push(() => act(() => root.unmount()));
    // act() rethrows what the render threw.
    await expect(act(async () => root.render(createElement(Orphan)))).rejects.toThrow(
      'useStrata() must be called inside <StrataProvider strata={...}>',
    );
  });

  it('sync hooks are empty without a sync client', async () => {
    const strata = await openStrata();
    const { container } = await render(
      createElement(StrataProvider, { strata }, createElement(SyncView, {})),
    );
    expect(container.textContent).toBe('pending=undefined leader=undefined rejected=[]');
  });

  it('useSyncStatus and useRejectedCommands follow the sync client', async () => {
    const strata = await openStrata();
    // Follows as a tab without the sync lock does: no network, only what IndexedDB shares.
    const sync = startSync(strata, { url: 'http://127.0.0.1:9', aggregates: [Todo], locks: NEVER });
    cleanups.push(() => sync.stop());
    let dismiss: ((seq: number) => Promise<void>) | undefined;
    const onDismiss = (current: (seq: number) => Promise<void>) => {
      dismiss = current;
    };
    const { container } = await render(
      createElement(StrataProvider, { strata, sync }, createElement(SyncView, { onDismiss })),
    );
    await eventually(() =>
      expect(container.textContent).toBe('pending=0 leader=false rejected=[]'),
    );

    await act(() => strata.execute(Todo, newKsuid(), 'add', { title: 'Offline' }));
    await eventually(() => expect(container.textContent).toContain('pending=1'));

    // A rejected command as a rebase records it (the server side is tested in the sync tiers).
    const seq = await act(() =>
      strata.db.rejected.add({
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
      }),
    );
    await eventually(() =>
      expect(container.textContent).toContain(`rejected=[${seq}:rename:TODO_REMOVED]`),
    );
    await act(() => dismiss?.(seq));
    await eventually(() => expect(container.textContent).toContain('rejected=[]'));
  });
});
