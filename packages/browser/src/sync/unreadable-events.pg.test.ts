// Version skew against the real edge server on a real Postgres (issue 17): the server has the
// NEWER definitions (TodoNext) and decides with them, so even an old client's own command comes
// back as an event the old client cannot read. The old client keeps it, holds that todo, syncs
// the rest; reopened with the newer definitions it applies what it kept, without downloading it.
import { newKsuid } from '@strata/core';
import { Todo } from '@strata/example-todo';
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  eventually,
  startTestClient,
  startTestServer,
  type TestClient,
  type TestServer,
} from '../../test/fixtures/sync-harness.ts';
import { todoTables } from '../../test/fixtures/todo-list.ts';
import { TodoNext, type TodoNextRow, todoListNext } from '../../test/fixtures/todo-next.ts';
import { createStrata } from '../runtime/create-strata.ts';
import { AggregateHeldError } from '../unreadable/held-aggregates.ts';
import { startSync } from './start-sync.ts';
import type { SyncStatus } from './sync-status.ts';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function server(): Promise<TestServer> {
  const started = await startTestServer({ aggregates: [TodoNext] });
  stops.push(() => started.stop());
  return started;
}
async function oldClient(url: string): Promise<TestClient> {
  const client = await startTestClient(url, 'old');
  stops.push(() => client.close());
  return client;
}
/** A device on the newer version: TodoNext and its projection. */
async function newClient(url: string, name = `new-${newKsuid()}`) {
  const strata = await createStrata({ name, tables: todoTables, projections: [todoListNext] });
  const sync = startSync(strata, {
    url,
    aggregates: [TodoNext],
    locks: null,
    backoff: { initialDelayMs: 10, maxDelayMs: 200 },
  });
  const stop = async () => {
    await sync.stop();
    strata.close();
  };
  stops.push(stop);
  return { strata, sync, stop };
}
const latestStatus = (client: { sync: { status: TestClient['sync']['status'] } }) => {
  let latest: SyncStatus | undefined;
  const subscription = client.sync.status.subscribe((status) => {
    latest = status;
  });
  stops.push(async () => subscription.unsubscribe());
  return () => latest;
};
const keys = (events: readonly { id: string; aggregateId: string; version: number }[]) =>
  events.map((event) => `${event.id}@${event.aggregateId}/${event.version}`).sort();

describe('an old client syncing with a newer server', () => {
  it("keeps what it cannot read (its own command's event too), syncs the rest, applies it after the update", async () => {
    const { url, events } = await server();
    const old = await oldClient(url);
    const status = latestStatus(old);
    const next = await newClient(url);

    // The newer server decides the old client's add into TodoAdded v3 (a priority): the old
    // client's prediction goes, the server's event is kept, the todo held at version 0.
    expect(await old.command('mine', 'add', { title: 'Milk' })).toBe(true);
    await next.strata.execute(TodoNext, 'theirs', 'add', { title: 'Tea', priority: 'high' });
    await next.strata.execute(TodoNext, 'theirs', 'star', { stars: 5 });
    await old.sync.whenSynced();
    await next.sync.whenSynced();
    await eventually(async () => {
      expect(keys(await old.strata.db.events.toArray())).toEqual(keys(await events()));
      expect(status()?.unreadable).toEqual({
        count: 3,
        heldAggregates: 2,
        types: [
          { type: 'TodoAdded', schemaVersion: 3, code: 'UNKNOWN_EVENT_TYPE', count: 2 },
          { type: 'TodoStarred', schemaVersion: 1, code: 'UNKNOWN_EVENT_TYPE', count: 1 },
        ],
      });
    });
    const stored = (await events()).find((event) => event.aggregateId === 'mine');
    expect(stored).toMatchObject({ type: 'TodoAdded', schemaVersion: 3, version: 1 });
    // Accepted by the server: not rejected, not pending, nothing predicted left.
    expect(old.rejected).toEqual([]);
    expect(await old.strata.pendingCommands()).toEqual([]);
    expect((await old.strata.db.events.toArray()).map((e) => e.schemaVersion).sort()).toEqual([
      1, 3, 3,
    ]);
    expect(await old.todoRows()).toEqual(new Map());
    expect(await old.todos()).toEqual(new Map());
    await expect(old.strata.execute(Todo, 'mine', 'rename', { title: 'Oat' })).rejects.toThrow(
      AggregateHeldError,
    );
    // What it can read still syncs both ways: a rename (schema version 1) of a todo made before.
    expect(await old.command('before', 'add', { title: 'x' })).toBe(true);
    await old.sync.whenSynced();
    const before = await old.strata.db.events.count();
    await next.strata.execute(TodoNext, 'theirs', 'rename', { title: 'Green tea' });
    await next.sync.whenSynced();
    await eventually(async () => {
      expect(await old.strata.db.events.count()).toBe(before + 1);
    });
    const oldDb = old.strata.db.name;
    // Closed twice (here and after the test): both are idempotent.
    await old.close();

    // The app updates: the same database opened with the newer definitions.
    const paths: string[] = [];
    const updated = await createStrata({
      name: oldDb,
      tables: todoTables,
      projections: [todoListNext],
    });
    stops.push(async () => updated.close());
    expect(await updated.db.unreadable.count()).toBe(0);
    const rows = new Map(
      (await updated.db.table<TodoNextRow, string>('todos').toArray()).map((row) => [row.id, row]),
    );
    expect(rows.get('mine')).toMatchObject({ title: 'Milk', priority: 'normal', applied: 1 });
    expect(rows.get('theirs')).toMatchObject({
      title: 'Green tea',
      priority: 'high',
      stars: 5,
      applied: 3,
    });
    expect((await updated.load(TodoNext, 'mine')).state).toMatchObject({ title: 'Milk' });
    const sync = startSync(updated, {
      url,
      aggregates: [TodoNext],
      locks: null,
      fetch: (input, init) => {
        paths.push(String(input instanceof Request ? input.url : input));
        return fetch(input, init);
      },
    });
    stops.push(() => sync.stop());
    await updated.execute(TodoNext, 'mine', 'star', { stars: 2 });
    await sync.whenSynced();
    expect(keys(await updated.db.events.toArray())).toEqual(keys(await events()));
    // Caught up from its cursor: the kept events were not downloaded again.
    expect(paths.some((path) => path.includes('/v1/pull') && !path.includes('after='))).toBe(false);
    expect((await updated.db.table<TodoNextRow, string>('todos').get('mine'))?.applied).toBe(2);
  });
});
