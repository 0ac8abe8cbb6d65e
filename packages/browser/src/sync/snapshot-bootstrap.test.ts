// Snapshot bootstrap on the device, item by item (fake-indexeddb): which server snapshots
// become an aggregate's base, what its projections and replays make of it, what is refused.
// End to end against the real server: snapshot-bootstrap.pg.test.ts.
import 'fake-indexeddb/auto';
import { defineInlineProjection, newKsuid, type ScopedItem, type Snapshot } from '@strata/core';
import { defineNote, folder, Note, type NoteState } from '@strata/example-todo';
import { afterEach, describe, expect, it } from 'vitest';
import { type NoteRow, noteList, noteTables } from '../../test/fixtures/note-list.ts';
import { bootstrapTypes } from '../bases/server-bases.ts';
import { createStrata, type Strata } from '../runtime/create-strata.ts';
import { applyScopedItems } from './apply-scoped.ts';
import { fillHoles, retireStaleBases } from './history-holes.ts';
import { loadOlderHistory } from './older-history.ts';
import { writeScopeStates } from './scope-set.ts';
import { pullScopesToEnd } from './scoped-catch-up.ts';
import { syncContext } from './sync-context.ts';
import type { SyncTransport } from './sync-transport.ts';

const FOLDER = folder({ folderId: 'f1' }).key;
const OTHER = folder({ folderId: 'f2' }).key;
const TIME = '2026-12-02T12:00:00.000Z';
const opened: Strata[] = [];
afterEach(() => {
  for (const strata of opened.splice(0)) strata.close();
});

async function device() {
  const strata = await createStrata({
    name: `bootstrap-${crypto.randomUUID()}`,
    tables: noteTables,
    projections: [noteList],
  });
  opened.push(strata);
  await writeScopeStates(strata.db, [
    { key: FOLDER, complete: false },
    { key: OTHER, complete: true },
  ]);
  const context = syncContext(strata, [Note], () => newKsuid());
  const apply = (items: ScopedItem[], scopes = [FOLDER]) =>
    applyScopedItems(context, {
      items,
      cursors: Object.fromEntries(scopes.map((scope) => [scope, `s${items.length}.0`])),
    });
  const rows = () => strata.db.table<NoteRow, string>('notes').toArray();
  return { strata, context, apply, rows };
}

/** The server's history of note `id`: created, then edited; version n has text `edit n-1`. */
function history(id: string, upTo: number) {
  return Array.from({ length: upTo }, (_, index) => {
    const version = index + 1;
    return {
      id: `${id}-e${version}`,
      type: version === 1 ? 'NoteCreated' : 'NoteEdited',
      schemaVersion: 1,
      aggregateType: 'Note',
      aggregateId: id,
      version,
      occurredAt: TIME,
      data: version === 1 ? { folderId: 'f1', text: 'v1' } : { text: `edit ${version - 1}` },
      metadata: {},
      position: 100 + version,
      recordedAt: TIME,
    };
  });
}
const eventItem = (event: ReturnType<typeof history>[number], scopes = [FOLDER]): ScopedItem => ({
  kind: 'event',
  cursor: `s${event.position}.${event.position}`,
  event: event as never,
  scopes,
});
const stateAt = (version: number): NoteState => ({
  folderId: 'f1',
  text: version === 1 ? 'v1' : `edit ${version - 1}`,
  edits: version - 1,
});
function snapshotItem(id: string, version: number, changes: Partial<Snapshot> = {}): ScopedItem {
  return {
    kind: 'snapshot',
    cursor: `s${100 + version}.${100 + version}`,
    scopes: [FOLDER],
    aggregateType: 'Note',
    aggregateId: id,
    version,
    state: stateAt(version) as never,
    fingerprint: Note.snapshots?.fingerprint ?? '',
    takenAt: TIME,
    ...changes,
  } as ScopedItem;
}
/** What the server sends for a back-fill of note `id` at `upTo` with a snapshot at `at`. */
const fromSnapshot = (id: string, at: number, upTo: number): ScopedItem[] => [
  snapshotItem(id, at),
  ...history(id, upTo)
    .slice(at - 1)
    .map((event) => eventItem(event)),
];

describe('snapshot bootstrap on the device', () => {
  it('starts an aggregate from the snapshot: its base, its events from there, its projection row', async () => {
    const { strata, apply, rows } = await device();
    await apply(fromSnapshot('n1', 10, 12));
    const events = await strata.history(Note, 'n1');
    expect(events.map((event) => event.version)).toEqual([10, 11, 12]);
    expect(await strata.db.bases.toArray()).toMatchObject([{ aggregateId: 'n1', version: 10 }]);
    expect(await strata.load(Note, 'n1')).toMatchObject({ state: stateAt(12), version: 12 });
    expect((await strata.loadAll(Note)).get('n1')).toMatchObject({ state: stateAt(12) });
    expect(await rows()).toEqual([{ id: 'n1', ...stateAt(12) }]);
    await strata.rebuildProjections();
    expect(await rows()).toEqual([{ id: 'n1', ...stateAt(12) }]);
  });

  it('an aggregate whose last event is its snapshot’s loads as the snapshot', async () => {
    const { strata, apply, rows } = await device();
    await apply(fromSnapshot('n1', 10, 10));
    expect((await strata.loadAll(Note)).get('n1')).toMatchObject({
      state: stateAt(10),
      version: 10,
    });
    expect(await rows()).toEqual([{ id: 'n1', ...stateAt(10) }]);
  });

  it('events below the base arriving later (another scope’s copy) are stored as history, not applied again', async () => {
    const { strata, apply, rows } = await device();
    await apply(fromSnapshot('n1', 10, 12));
    await apply(
      history('n1', 12).map((event) => eventItem(event, [OTHER])),
      [OTHER],
    );
    expect((await strata.history(Note, 'n1')).map((event) => event.version)).toEqual(
      Array.from({ length: 12 }, (_, index) => index + 1),
    );
    expect(await rows()).toEqual([{ id: 'n1', ...stateAt(12) }]);
    expect((await strata.loadAll(Note)).get('n1')).toMatchObject({ state: stateAt(12) });
  });

  it('a device that holds the aggregate’s events up to the snapshot already keeps them and its rows', async () => {
    const { strata, apply, rows } = await device();
    await apply(
      history('n1', 11).map((event) => eventItem(event, [OTHER])),
      [OTHER],
    );
    await apply(fromSnapshot('n1', 10, 12));
    expect(await strata.db.bases.count()).toBe(0);
    expect((await strata.history(Note, 'n1')).map((event) => event.version)).toHaveLength(12);
    expect(await rows()).toEqual([{ id: 'n1', ...stateAt(12) }]);
  });

  it('refuses a snapshot it did not ask for, or whose state its schema refuses: nothing of the batch is stored', async () => {
    for (const bad of [
      { fingerprint: 'another-schema' },
      { state: { text: 42 } as never },
      { aggregateType: 'Unknown' },
    ]) {
      const { strata, apply } = await device();
      const items = fromSnapshot('n1', 10, 12);
      items[0] = snapshotItem('n1', 10, bad);
      await expect(apply(items)).rejects.toMatchObject({ code: 'INTERNAL' });
      expect(await strata.db.events.count()).toBe(0);
      expect(await strata.db.bases.count()).toBe(0);
      expect(await strata.db.table('notes').count()).toBe(0);
    }
  });

  it('dropping the aggregate (it left every held scope) drops its base', async () => {
    const { strata, apply, rows } = await device();
    await apply(fromSnapshot('n1', 10, 12));
    await apply([
      { kind: 'left', cursor: 's200.200', scope: FOLDER, aggregateType: 'Note', aggregateId: 'n1' },
    ]);
    expect(await strata.db.bases.count()).toBe(0);
    expect(await strata.db.events.count()).toBe(0);
    expect(await rows()).toEqual([]);
  });

  it('reads the older history on demand, page by page, storing only what is missing', async () => {
    const { strata, apply, rows } = await device();
    await apply(fromSnapshot('n1', 10, 12));
    const server = history('n1', 12);
    const asked: [number, number][] = [];
    const transport: Pick<SyncTransport, 'streamHistory'> = {
      async streamHistory(stream, fromVersion, limit) {
        asked.push([fromVersion, limit]);
        const page = server.filter((e) => e.version >= fromVersion).slice(0, 4);
        const next = (page.at(-1)?.version ?? fromVersion - 1) + 1;
        return {
          ...stream,
          events: page as never,
          version: 12,
          nextVersion: next,
          hasMore: next <= 12,
        };
      },
    };
    expect(
      await loadOlderHistory(strata.db, transport, { aggregateType: 'Note', aggregateId: 'n1' }),
    ).toBe(9);
    expect(asked).toEqual([
      [1, 9],
      [5, 5],
      [9, 1],
    ]);
    const stored = await strata.history(Note, 'n1');
    expect(stored.map((event) => event.id)).toEqual(server.map((event) => event.id));
    expect(await rows()).toEqual([{ id: 'n1', ...stateAt(12) }]);
    expect(
      await loadOlderHistory(strata.db, transport, { aggregateType: 'Note', aggregateId: 'n1' }),
    ).toBe(0);
  });
});

describe('a hole no base covers (the snapshot changed between two pages of a back-fill)', () => {
  /** Serves `server` as `GET /v1/streams/.../events` pages of 4, recording what was asked. */
  const historyOf = (server: ReturnType<typeof history>, asked: [number, number][] = []) => ({
    async streamHistory(
      stream: { aggregateType: string; aggregateId: string },
      fromVersion: number,
      limit: number,
    ) {
      asked.push([fromVersion, limit]);
      const page = server.filter((e) => e.version >= fromVersion).slice(0, Math.min(4, limit));
      const next = (page.at(-1)?.version ?? fromVersion - 1) + 1;
      const last = server.at(-1)?.version ?? 1;
      return {
        ...stream,
        events: page as never,
        version: last,
        nextVersion: next,
        hasMore: next <= last,
      };
    },
  });

  it('is noted with the batch and filled from the server: every event, the rows replayed from the first', async () => {
    const { strata, context, apply, rows } = await device();
    const server = history('n1', 12);
    // Pages before left out versions 1..7 for a snapshot that then went: 8..12 come alone.
    const result = await apply(server.slice(7).map((event) => eventItem(event)));
    expect(result.holes).toEqual([{ aggregateType: 'Note', aggregateId: 'n1' }]);
    const asked: [number, number][] = [];
    await fillHoles(context, historyOf(server, asked));
    expect(asked).toEqual([
      [1, 1000],
      [5, 1000],
      [9, 1000],
    ]);
    const stored = await strata.history(Note, 'n1');
    expect(stored.map((event) => event.id)).toEqual(server.map((event) => event.id));
    expect(await strata.load(Note, 'n1')).toMatchObject({ state: stateAt(12), version: 12 });
    expect(await rows()).toEqual([{ id: 'n1', ...stateAt(12) }]);
    // Filled: nothing left to fill.
    asked.length = 0;
    await fillHoles(context, historyOf(server, asked));
    expect(asked).toEqual([]);
  });

  it('a device that holds older events does not start from the snapshot: it fills the events it stands for', async () => {
    const { strata, context, apply, rows } = await device();
    const server = history('n1', 12);
    await apply(
      server.slice(0, 3).map((event) => eventItem(event, [OTHER])),
      [OTHER],
    );
    const result = await apply(fromSnapshot('n1', 10, 12));
    expect(await strata.db.bases.count()).toBe(0);
    expect(result.holes).toEqual([{ aggregateType: 'Note', aggregateId: 'n1' }]);
    expect((await strata.history(Note, 'n1')).map((event) => event.version)).toEqual([1, 2, 3]);
    await fillHoles(context, historyOf(server));
    expect((await strata.history(Note, 'n1')).map((event) => event.id)).toEqual(
      server.map((event) => event.id),
    );
    expect(await rows()).toEqual([{ id: 'n1', ...stateAt(12) }]);
  });

  it('a pending command the server stored, whose event a snapshot stands for, is confirmed by the fill, not run again', async () => {
    const { strata, context, apply, rows } = await device();
    const server = history('n1', 4);
    await apply(server.slice(0, 2).map((event) => eventItem(event)));
    // Offline: edit decided here as version 3, pending. The server stored it (its own ids),
    // another device wrote version 4, and the server snapshotted there.
    await strata.execute(Note, 'n1', 'edit', { text: 'edit 2' });
    const [command] = await strata.pendingCommands();
    const stored = server.map((event) =>
      event.version === 3 ? { ...event, metadata: { commandId: command?.commandId } } : event,
    );
    const result = await apply([snapshotItem('n1', 4), eventItem(stored[3] as never)]);
    expect(result.holes).toHaveLength(1);
    const filled = await fillHoles(context, historyOf(stored as never));
    expect(filled.rejected).toEqual([]);
    expect(await strata.pendingCommands()).toEqual([]);
    expect((await strata.history(Note, 'n1')).map((event) => event.id)).toEqual(
      stored.map((event) => event.id),
    );
    expect(await strata.load(Note, 'n1')).toMatchObject({ state: stateAt(4), version: 4 });
    expect(await rows()).toEqual([{ id: 'n1', ...stateAt(4) }]);
  });

  it('pending events the server stored as they are keep their effect on the rows when a snapshot comes', async () => {
    const { strata, apply, rows } = await device();
    await apply(history('n1', 2).map((event) => eventItem(event)));
    await strata.execute(Note, 'n1', 'edit', { text: 'C1' });
    await strata.execute(Note, 'n1', 'edit', { text: 'C2' });
    const [c1] = (await strata.history(Note, 'n1')).filter((event) => event.version === 3);
    // The server stored C1 as predicted (same id) and snapshotted at 3.
    const e3 = {
      ...(c1 as never as ReturnType<typeof history>[number]),
      position: 103,
      recordedAt: TIME,
    };
    await apply([
      snapshotItem('n1', 3, { state: { folderId: 'f1', text: 'C1', edits: 2 } as never }),
      eventItem(e3),
    ]);
    expect(await strata.db.bases.count()).toBe(0);
    const loaded = await strata.load(Note, 'n1');
    expect(loaded.state).toMatchObject({ text: 'C2', edits: 3 });
    expect(await rows()).toEqual([{ id: 'n1', ...loaded.state }]);
  });

  it('a base this app version cannot read (another fingerprint) is retired and its history filled', async () => {
    const { strata, context, apply, rows } = await device();
    const server = history('n1', 12);
    await apply(fromSnapshot('n1', 10, 12));
    // As an older app version wrote it.
    await strata.db.bases.update(['Note', 'n1'], { fingerprint: 'an-older-schema' });
    expect(await retireStaleBases(context)).toEqual([{ aggregateType: 'Note', aggregateId: 'n1' }]);
    expect(await strata.db.bases.count()).toBe(0);
    await fillHoles(context, historyOf(server));
    expect((await strata.history(Note, 'n1')).map((event) => event.id)).toEqual(
      server.map((event) => event.id),
    );
    expect(await strata.load(Note, 'n1')).toMatchObject({ state: stateAt(12), version: 12 });
    expect(await rows()).toEqual([{ id: 'n1', ...stateAt(12) }]);
    expect(await retireStaleBases(context)).toEqual([]);
  });

  it('a failed fill keeps the note for the next try; an aggregate dropped meanwhile is let go', async () => {
    const { strata, context, apply } = await device();
    const server = history('n1', 12);
    await apply(server.slice(7).map((event) => eventItem(event)));
    const offline = {
      async streamHistory(): Promise<never> {
        throw new Error('offline');
      },
    };
    await expect(fillHoles(context, offline)).rejects.toThrow('offline');
    await apply([
      { kind: 'left', cursor: 's300.300', scope: FOLDER, aggregateType: 'Note', aggregateId: 'n1' },
    ]);
    const asked: [number, number][] = [];
    expect((await fillHoles(context, historyOf(server, asked))).imported).toBe(0);
    expect(await strata.db.events.count()).toBe(0);
    await fillHoles(context, historyOf(server, asked));
    expect(asked).toHaveLength(3); // the first fill read the history, the second had nothing to do
  });

  it('no hole for what follows a confirmed event, a base, or starts at version 1', async () => {
    const { apply } = await device();
    expect((await apply(history('n1', 3).map((event) => eventItem(event)))).holes).toEqual([]);
    expect(
      (
        await apply(
          history('n1', 5)
            .slice(3)
            .map((event) => eventItem(event)),
        )
      ).holes,
    ).toEqual([]);
    expect((await apply(fromSnapshot('n2', 10, 12))).holes).toEqual([]);
  });
});

describe('which types a device bootstraps, and when it asks', () => {
  it('only types whose snapshots opt in and whose every projection has fromState', () => {
    const fingerprint = Note.snapshots?.fingerprint;
    expect(bootstrapTypes([Note], [noteList])).toEqual({ Note: fingerprint });
    expect(bootstrapTypes([defineNote({ bootstrap: false })], [noteList])).toEqual({});
    const withoutFromState = defineInlineProjection({ name: 'count', aggregate: Note, apply() {} });
    expect(bootstrapTypes([Note], [noteList, withoutFromState])).toEqual({});
    const everything = { name: 'all', apply() {} };
    expect(bootstrapTypes([Note], [everything])).toEqual({});
  });

  it('asks for snapshots on every page of a back-filling scope, never for a complete one', async () => {
    const bodies: unknown[] = [];
    let page = 0;
    const transport: Pick<SyncTransport, 'pullScopes'> = {
      async pullScopes(body) {
        bodies.push(body);
        page++;
        return {
          items: [],
          cursors: { [FOLDER]: `s${page}.${page}`, [OTHER]: `s${page}.${page}` },
          hasMore: page < 2,
        };
      },
    };
    await pullScopesToEnd(
      [
        { key: FOLDER, complete: false },
        { key: OTHER, complete: true, cursor: 's0.0' },
      ],
      {
        transport,
        apply: async () => undefined,
        pullLimit: 10,
        snapshots: { Note: 'fp' },
        signal: new AbortController().signal,
      },
    );
    expect(bodies).toEqual([
      {
        scopes: [
          { scope: FOLDER, bootstrap: true },
          { scope: OTHER, after: 's0.0' },
        ],
        limit: 10,
        snapshots: { Note: 'fp' },
      },
      {
        scopes: [
          { scope: FOLDER, after: 's1.1', bootstrap: true },
          { scope: OTHER, after: 's1.1' },
        ],
        limit: 10,
        snapshots: { Note: 'fp' },
      },
    ]);
    bodies.length = 0;
    page = 0;
    await pullScopesToEnd([{ key: OTHER, complete: true, cursor: 's0.0' }], {
      transport,
      apply: async () => undefined,
      pullLimit: 10,
      snapshots: { Note: 'fp' },
      signal: new AbortController().signal,
    });
    expect(bodies[0]).toEqual({ scopes: [{ scope: OTHER, after: 's0.0' }], limit: 10 });
  });
});
