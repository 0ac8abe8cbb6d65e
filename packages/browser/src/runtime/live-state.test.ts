import { streamKey } from '@strata/core';
import { Todo } from '@strata/example-todo';
// Dexie's liveQuery only observes the global IndexedDB: fake-indexeddb installed globally.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { createStrata, type Strata } from './create-strata.ts';
import { type AggregateState, createLocalCommits, liveAggregateState } from './live-state.ts';

const opened: Strata[] = [];
afterEach(() => {
  for (const strata of opened.splice(0)) strata.close();
});
let databases = 0;
async function open() {
  const strata = await createStrata({ name: `live-state-${databases++}` });
  opened.push(strata);
  return strata;
}
const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

describe('liveState and this tab’s commits', () => {
  it('delivers a command’s state once, by the time execute resolves', async () => {
    const strata = await open();
    const versions: number[] = [];
    const subscription = strata
      .liveState(Todo, 't1')
      .subscribe(({ version }) => versions.push(version));
    await expect.poll(() => versions).toEqual([0]);
    await strata.execute(Todo, 't1', 'add', { title: 'a' });
    expect(versions).toEqual([0, 1]);
    await strata.execute(Todo, 't1', 'rename', { title: 'b' });
    await strata.execute(Todo, 't1', 'rename', { title: 'c' });
    expect(versions).toEqual([0, 1, 2, 3]);
    // The live query reading the same tips back delivers nothing more.
    await settle();
    expect(versions).toEqual([0, 1, 2, 3]);
    subscription.unsubscribe();
  });

  it('a refused command delivers nothing', async () => {
    const strata = await open();
    await strata.execute(Todo, 't1', 'add', { title: 'a' }, { metadata: { commandId: 'c1' } });
    const versions: number[] = [];
    const subscription = strata
      .liveState(Todo, 't1')
      .subscribe(({ version }) => versions.push(version));
    await expect.poll(() => versions).toEqual([1]);
    await expect(
      strata.execute(Todo, 't1', 'rename', { title: 'b' }, { metadata: { commandId: 'c1' } }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await settle();
    expect(versions).toEqual([1]);
    subscription.unsubscribe();
  });

  it('never goes back from a tip the live query has seen to an older local commit', async () => {
    const strata = await open();
    await strata.execute(Todo, 't1', 'add', { title: 'a' });
    await strata.execute(Todo, 't1', 'rename', { title: 'b' });
    const local = createLocalCommits();
    const seen: AggregateState<unknown>[] = [];
    const subscription = liveAggregateState(
      strata.db,
      Todo,
      't1',
      strata.load,
      new Map(),
      local,
    ).subscribe((state) => seen.push(state));
    await expect.poll(() => seen.map(({ version }) => version)).toEqual([2]);
    const key = streamKey({ aggregateType: 'Todo', aggregateId: 't1' });
    local.publish(key, {
      state: { title: 'stale' },
      version: 2,
      lastEventId: 'other',
      lastPosition: 2,
    });
    local.publish(key, {
      state: { title: 'stale' },
      version: 1,
      lastEventId: 'older',
      lastPosition: 1,
    });
    expect(seen).toHaveLength(1);
    local.publish(key, {
      state: { title: 'next' },
      version: 3,
      lastEventId: 'e3',
      lastPosition: 3,
    });
    local.publish(key, {
      state: { title: 'next' },
      version: 3,
      lastEventId: 'e3',
      lastPosition: 3,
    });
    local.publish(streamKey({ aggregateType: 'Todo', aggregateId: 't2' }), {
      state: { title: 'elsewhere' },
      version: 9,
      lastEventId: 'e9',
      lastPosition: 9,
    });
    expect(seen.map(({ version }) => version)).toEqual([2, 3]);
    subscription.unsubscribe();
    local.publish(key, {
      state: { title: 'later' },
      version: 4,
      lastEventId: 'e4',
      lastPosition: 4,
    });
    expect(seen).toHaveLength(2);
  });

  it('sees what does not come from this tab’s commands: an import, a rebase deleting the tip', async () => {
    const strata = await open();
    await strata.execute(Todo, 't1', 'add', { title: 'a' });
    const renamed = await strata.execute(Todo, 't1', 'rename', { title: 'b' });
    const seen: AggregateState<{ title?: string }>[] = [];
    const subscription = strata.liveState(Todo, 't1').subscribe((state) => seen.push(state));
    await expect.poll(() => seen.map(({ version }) => version)).toEqual([2]);
    // What a rebase does first: the pending tip goes (a delete by position only).
    await strata.db.events.bulkDelete(renamed.events.map((event) => event.position));
    await expect.poll(() => seen.map(({ version }) => version)).toEqual([2, 1]);
    expect(seen.at(-1)?.state.title).toBe('a');
    // Events from upstream, written without a command.
    const [event] = renamed.events;
    await strata.store.importEvents([
      { ...(event as (typeof renamed.events)[number]), id: 'upstream-2' },
    ]);
    await expect.poll(() => seen.map(({ version }) => version)).toEqual([2, 1, 2]);
    // Another stream's writes do not reload this one.
    await strata.execute(Todo, 't2', 'add', { title: 'other' });
    await settle();
    expect(seen).toHaveLength(3);
    subscription.unsubscribe();
  });
});
