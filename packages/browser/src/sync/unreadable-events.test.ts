// Version skew on an old client (issue 17), in Node on fake-indexeddb: events a newer app
// version wrote are kept and hold their aggregate, everything else syncs, and a newer runtime
// on the same database applies them once. Against the real server: unreadable-events.pg.test.ts;
// in Chromium with two builds: test/e2e/version-skew.e2e.test.ts.
import { isStrataError, newKsuid, type ScopedItem } from '@strata/core';
import { Todo } from '@strata/example-todo';
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { type NoteRow, noteList, noteTables } from '../../test/fixtures/note-list.ts';
import type { TodoRow } from '../../test/fixtures/todo-list.ts';
import { todoList, todoTables } from '../../test/fixtures/todo-list.ts';
import { TodoNext, type TodoNextRow, todoListNext } from '../../test/fixtures/todo-next.ts';
import { createStrata, type Strata } from '../runtime/create-strata.ts';
import { AggregateHeldError } from '../unreadable/held-aggregates.ts';
import { applyScopedItems } from './apply-scoped.ts';
import { applyUpstream, readCursor } from './apply-upstream.ts';
import { readScopeStates, writeScopeStates } from './scope-set.ts';
import { syncContext, type UpstreamEvent } from './sync-context.ts';
import { liveSyncStatus, type SyncStatus } from './sync-status.ts';
import { liveUnreadableEvents, readUnreadableStatus, releaseForSync } from './unreadable-events.ts';

const opened: Strata[] = [];
afterEach(() => {
  for (const strata of opened.splice(0)) strata.close();
});

/** The old app version's runtime (or, with `next`, the newer one's) on database `name`. */
async function runtime(name: string, { next = false, projected = true } = {}) {
  const strata = await createStrata({
    name,
    tables: todoTables,
    projections: projected ? [next ? todoListNext : todoList] : [],
  });
  opened.push(strata);
  const context = syncContext(strata, [next ? TodoNext : Todo], () => newKsuid());
  let cursor = 0;
  return {
    strata,
    context,
    apply: (events: UpstreamEvent[]) => applyUpstream(context, events, `c${++cursor}`),
    row: (id: string) => strata.db.table<TodoRow & TodoNextRow, string>('todos').get(id),
  };
}
const fresh = () => `unreadable-${crypto.randomUUID()}`;

let position = 0;
/** An event as a newer server sends it: any type, schema version and data. */
const upstream = (
  aggregateId: string,
  version: number,
  type: string,
  data: unknown,
  schemaVersion = 1,
): UpstreamEvent =>
  ({
    id: newKsuid(),
    type,
    schemaVersion,
    aggregateType: 'Todo',
    aggregateId,
    version,
    occurredAt: '2026-12-03T10:00:00.000Z',
    recordedAt: '2026-12-03T10:00:00.000Z',
    data,
    metadata: { commandId: newKsuid() },
    position: ++position,
  }) as UpstreamEvent;
const added = (id: string, title: string) => upstream(id, 1, 'TodoAdded', { title }, 2);
/** TodoAdded at schema version 3: the old version knows the type, not the version. */
const addedV3 = (id: string, title: string) =>
  upstream(id, 1, 'TodoAdded', { title, priority: 'high' }, 3);
const starred = (id: string, version: number, stars = 3) =>
  upstream(id, version, 'TodoStarred', { stars });
const renamed = (id: string, version: number, title: string) =>
  upstream(id, version, 'TodoRenamed', { title });

describe('upstream events this app version cannot read', () => {
  it('do not stall the batch: the cursor passes them and other aggregates sync', async () => {
    const { strata, apply, row } = await runtime(fresh());
    await apply([added('t1', 'Milk'), starred('t1', 2), added('t2', 'Bread')]);
    expect(await readCursor(strata.db)).toBe('c1');
    expect(await row('t2')).toMatchObject({ title: 'Bread' });
    // Later batches go on as well.
    await apply([renamed('t2', 2, 'Rye bread')]);
    expect(await readCursor(strata.db)).toBe('c2');
    expect(await row('t2')).toMatchObject({ title: 'Rye bread' });
  });

  it('are kept in the log and hold their aggregate at its last readable event, later readable ones too', async () => {
    const { strata, apply, row } = await runtime(fresh());
    const star = starred('t1', 2);
    await apply([added('t1', 'Milk'), star, renamed('t1', 3, 'Oat milk')]);
    // In the same batch and in a later one: not applied past the hold.
    await apply([renamed('t1', 4, 'Soy milk')]);
    expect(
      (await strata.db.events.orderBy('position').toArray()).map((e) => [e.version, e.type]),
    ).toEqual([
      [1, 'TodoAdded'],
      [2, 'TodoStarred'],
      [3, 'TodoRenamed'],
      [4, 'TodoRenamed'],
    ]);
    expect(await strata.db.unreadable.toArray()).toEqual([
      expect.objectContaining({
        id: star.id,
        aggregateId: 't1',
        version: 2,
        type: 'TodoStarred',
        schemaVersion: 1,
        code: 'UNKNOWN_EVENT_TYPE',
        serverPosition: star.position,
      }),
    ]);
    expect(await row('t1')).toEqual({ id: 't1', title: 'Milk', status: 'active' });
    expect(await strata.load(Todo, 't1')).toMatchObject({
      state: { title: 'Milk' },
      version: 1,
    });
    expect((await strata.history(Todo, 't1')).map((e) => e.version)).toEqual([1]);
    expect((await strata.loadAll(Todo)).get('t1')).toMatchObject({
      state: { title: 'Milk' },
      version: 1,
    });
    await strata.rebuildProjections();
    expect(await row('t1')).toEqual({ id: 't1', title: 'Milk', status: 'active' });
  });

  it('refuse commands on a held aggregate with a typed error; others take commands', async () => {
    const { strata, apply } = await runtime(fresh());
    await apply([added('t1', 'Milk'), starred('t1', 2), added('t2', 'Bread')]);
    const refused = await strata
      .execute(Todo, 't1', 'rename', { title: 'Oat milk' })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AggregateHeldError);
    expect(isStrataError(refused, 'UNKNOWN_EVENT_TYPE')).toBe(true);
    expect(refused).toMatchObject({
      aggregateId: 't1',
      heldAtVersion: 1,
      eventType: 'TodoStarred',
      schemaVersion: 1,
    });
    expect(await strata.pendingCommands()).toEqual([]);
    expect(await strata.db.events.count()).toBe(3);
    expect((await strata.execute(Todo, 't2', 'complete', {})).version).toBe(2);
  });

  it('keep a schema version newer than the definition has, and garbage data of an unknown type', async () => {
    const { strata, apply, row } = await runtime(fresh());
    const garbage = [null, 'text', 42, { stars: { $gt: '' } }, '\u0000'.repeat(100)];
    await apply([
      addedV3('t1', 'Milk'),
      added('t2', 'Bread'),
      ...garbage.map((data, index) => starred('t2', index + 2, data as never)),
      // A type it does not know on a known aggregate: with data of anything.
      upstream('t3', 1, 'TodoAdded', { title: 'Tea' }, 2),
      upstream('t3', 2, 'TodoArchived', undefined as never),
    ]);
    expect(await row('t1')).toBeUndefined();
    expect(await row('t2')).toMatchObject({ title: 'Bread' });
    expect(await row('t3')).toMatchObject({ title: 'Tea' });
    expect(await readUnreadableStatus(strata.db)).toEqual({
      count: 7,
      heldAggregates: 3,
      types: [
        { type: 'TodoAdded', schemaVersion: 3, code: 'UNKNOWN_EVENT_TYPE', count: 1 },
        { type: 'TodoStarred', schemaVersion: 1, code: 'UNKNOWN_EVENT_TYPE', count: 5 },
        { type: 'TodoArchived', schemaVersion: 1, code: 'UNKNOWN_EVENT_TYPE', count: 1 },
      ],
    });
  });

  it('reject the pending commands of an aggregate they hold, visibly, and keep the rest pending', async () => {
    const { strata, apply, row } = await runtime(fresh());
    await apply([added('t1', 'Milk'), added('t2', 'Bread')]);
    await strata.execute(Todo, 't1', 'rename', { title: 'Oat milk' });
    await strata.execute(Todo, 't2', 'complete', {});
    // Another device, on the newer version, starred t1 first.
    const result = await apply([starred('t1', 2)]);
    expect(result.rejected).toEqual([
      expect.objectContaining({
        aggregateId: 't1',
        command: 'rename',
        code: 'UNKNOWN_EVENT_TYPE',
        reason: expect.stringContaining('held at version 1'),
      }),
    ]);
    expect(await strata.db.rejected.count()).toBe(1);
    expect((await strata.pendingCommands()).map((c) => c.aggregateId)).toEqual(['t2']);
    // The prediction went; the server's event took its version.
    expect(
      (await strata.db.events.filter((e) => e.aggregateId === 't1').toArray()).map((e) => e.type),
    ).toEqual(['TodoAdded', 'TodoStarred']);
    expect(await row('t1')).toMatchObject({ title: 'Milk' });
  });

  it('come through the scoped path the same way', async () => {
    const { strata, context, row } = await runtime(fresh());
    await writeScopeStates(strata.db, [{ key: 'todos:ann', complete: false }]);
    const item = (event: UpstreamEvent): ScopedItem => ({
      kind: 'event',
      cursor: `s${event.position}`,
      event: event as never,
      scopes: ['todos:ann'],
    });
    await applyScopedItems(context, {
      items: [added('t1', 'Milk'), starred('t1', 2), added('t2', 'Bread')].map(item),
      cursors: { 'todos:ann': 's-1' },
    });
    expect((await readScopeStates(strata.db))[0]).toMatchObject({ cursor: 's-1' });
    expect(await row('t2')).toMatchObject({ title: 'Bread' });
    expect(await row('t1')).toMatchObject({ title: 'Milk' });
    expect(await strata.db.unreadable.count()).toBe(1);
    // The scope lets t1 go: what it kept goes with its events, and the status says nothing.
    await applyScopedItems(context, {
      items: [
        {
          kind: 'left',
          cursor: 's9',
          scope: 'todos:ann',
          aggregateType: 'Todo',
          aggregateId: 't1',
        } as ScopedItem,
      ],
      cursors: { 'todos:ann': 's9' },
    });
    expect(await strata.db.events.filter((e) => e.aggregateId === 't1').count()).toBe(0);
    expect(await strata.db.unreadable.count()).toBe(0);
    expect(await readUnreadableStatus(strata.db)).toBeUndefined();
  });

  it('show in the sync status and as a live list', async () => {
    const { strata, apply } = await runtime(fresh());
    const statuses: SyncStatus[] = [];
    const lists: string[][] = [];
    const status = liveSyncStatus(
      strata.db,
      () => ({ leader: true, online: true }),
      () => () => undefined,
    ).subscribe((value) => statuses.push(value));
    const list = liveUnreadableEvents(strata.db).subscribe((rows) =>
      lists.push(rows.map((r) => `${r.aggregateId}@${r.version}`)),
    );
    await expect.poll(() => statuses.length).toBeGreaterThan(0);
    expect(statuses.at(-1)?.unreadable).toBeUndefined();
    await apply([added('t1', 'Milk'), starred('t1', 2), addedV3('t2', 'Tea')]);
    await expect
      .poll(() => statuses.at(-1)?.unreadable)
      .toEqual({
        count: 2,
        heldAggregates: 2,
        types: [
          { type: 'TodoStarred', schemaVersion: 1, code: 'UNKNOWN_EVENT_TYPE', count: 1 },
          { type: 'TodoAdded', schemaVersion: 3, code: 'UNKNOWN_EVENT_TYPE', count: 1 },
        ],
      });
    await expect.poll(() => lists.at(-1)).toEqual(['t1@2', 't2@1']);
    status.unsubscribe();
    list.unsubscribe();
  });
});

describe('after the app updates', () => {
  it('a newer runtime applies the kept events on start, in order, once; reopening applies nothing again', async () => {
    const name = fresh();
    const old = await runtime(name);
    await old.apply([
      addedV3('t1', 'Milk'),
      renamed('t1', 2, 'Oat milk'),
      added('t2', 'Bread'),
      starred('t2', 2, 4),
      renamed('t2', 3, 'Rye bread'),
      added('t3', 'Tea'),
    ]);
    expect(await old.row('t2')).toEqual({ id: 't2', title: 'Bread', status: 'active' });
    old.strata.close();

    const next = await runtime(name, { next: true });
    expect(await next.strata.db.unreadable.count()).toBe(0);
    // t1 and t2 from their holds on: each event applied once by the newer projection.
    expect(await next.row('t1')).toMatchObject({
      title: 'Oat milk',
      priority: 'high',
      applied: 2,
    });
    expect(await next.row('t2')).toMatchObject({ title: 'Rye bread', stars: 4, applied: 2 });
    expect(await next.row('t3')).toEqual({ id: 't3', title: 'Tea', status: 'active' });
    expect(await next.strata.load(TodoNext, 't2')).toMatchObject({
      state: { title: 'Rye bread', stars: 4 },
      version: 3,
    });
    expect((await next.strata.execute(TodoNext, 't2', 'star', { stars: 5 })).version).toBe(4);
    next.strata.close();

    const again = await runtime(name, { next: true });
    expect(await again.row('t2')).toMatchObject({ stars: 5, applied: 3 });
    expect(await again.row('t1')).toMatchObject({ applied: 2 });
  });

  it('keeps what the newer version cannot read either, and applies up to it', async () => {
    const name = fresh();
    const old = await runtime(name);
    await old.apply([
      added('t1', 'Milk'),
      starred('t1', 2, 2),
      // Garbage for the newer version too: stars must be 1..5.
      starred('t1', 3, 99),
      renamed('t1', 4, 'Oat milk'),
    ]);
    old.strata.close();
    const next = await runtime(name, { next: true });
    expect(await next.row('t1')).toMatchObject({ title: 'Milk', stars: 2, applied: 1 });
    expect(await next.strata.db.unreadable.toArray()).toEqual([
      expect.objectContaining({ version: 3, code: 'VALIDATION_FAILED' }),
    ]);
    expect(await next.strata.load(TodoNext, 't1')).toMatchObject({ version: 2 });
    await expect(next.strata.execute(TodoNext, 't1', 'star', { stars: 1 })).rejects.toThrow(
      AggregateHeldError,
    );
  });

  it('runs the stored events of an aggregate type the old version defined nowhere through its new projections, once', async () => {
    const name = fresh();
    const old = await runtime(name);
    const note = (version: number, type: string, data: object): UpstreamEvent => ({
      ...upstream('n1', version, type, data),
      aggregateType: 'Note',
    });
    await old.apply([
      note(1, 'NoteCreated', { folderId: 'f1', text: 'v1' }),
      added('t1', 'Milk'),
      note(2, 'NoteEdited', { text: 'edit 1' }),
      note(3, 'NoteEdited', { text: 'edit 2' }),
    ]);
    // Nothing reads Note here: stored, not kept, nothing reported.
    expect(await old.strata.db.events.count()).toBe(4);
    expect(await readUnreadableStatus(old.strata.db)).toBeUndefined();
    old.strata.close();

    const open = async () => {
      const strata = await createStrata({
        name,
        tables: { ...todoTables, ...noteTables },
        tablesVersion: 2,
        projections: [todoList, noteList],
      });
      opened.push(strata);
      return strata;
    };
    const next = await open();
    // Each edit applied once: `edits` counts them.
    expect(await next.db.table<NoteRow, string>('notes').toArray()).toEqual([
      { id: 'n1', folderId: 'f1', text: 'edit 2', edits: 2 },
    ]);
    next.close();
    const again = await open();
    expect(await again.db.table<NoteRow, string>('notes').get('n1')).toMatchObject({ edits: 2 });
  });

  it('the sync start applies kept events of aggregates only the sync knows, and live states follow', async () => {
    const name = fresh();
    const old = await runtime(name, { projected: false });
    await old.apply([added('t1', 'Milk'), starred('t1', 2, 4)]);
    old.strata.close();
    // No projection: createStrata knows no definitions, the aggregate stays held till the sync.
    const { strata } = await runtime(name, { next: true, projected: false });
    const states: unknown[] = [];
    const live = strata.liveState(TodoNext, 't1').subscribe((value) => states.push(value));
    await expect.poll(() => states.at(-1)).toMatchObject({ version: 1 });
    const result = await releaseForSync(syncContext(strata, [TodoNext], () => newKsuid()));
    expect(result).toEqual({ released: 1, kept: 0 });
    await expect.poll(() => states.at(-1)).toMatchObject({ version: 2, state: { stars: 4 } });
    live.unsubscribe();
  });
});
