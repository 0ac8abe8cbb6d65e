import { ANY, type NewEvent, NO_STREAM, newKsuid, type Snapshot } from '@strata/core';
import { liveQuery } from 'dexie';
import { afterEach, describe, expect, it } from 'vitest';
import { openStrataDatabase } from '../database/strata-database.ts';
import { createDexieEventStore, type DexieEventStore } from './dexie-event-store.ts';

// The one-round-trip append (issue 16) in real Chromium, where IDBTransaction.commit() exists:
// the hostile cases a command's append can meet, each leaving nothing behind.
const stream = { aggregateType: 'Note', aggregateId: 'n1' };
const note = (n: number): NewEvent => ({
  id: newKsuid(),
  type: 'Noted',
  schemaVersion: 1,
  occurredAt: new Date().toISOString(),
  data: { n },
  metadata: {},
});
const snapshotAt = (version: number): Snapshot => ({
  ...stream,
  version,
  state: { version },
  fingerprint: 'f1',
  takenAt: new Date().toISOString(),
});

let opened: DexieEventStore[] = [];
let counter = 0;
async function freshStore(): Promise<DexieEventStore> {
  const db = await openStrataDatabase({
    name: `append-${Date.now()}-${counter++}`,
    tables: { notes: 'n' },
  });
  const store = createDexieEventStore(db);
  opened.push(store);
  return store;
}
afterEach(async () => {
  for (const { db } of opened) {
    db.close();
    await db.delete();
  }
  opened = [];
});

/** A store holding versions 1..`count` of the stream. */
async function storeWith(count: number) {
  const store = await freshStore();
  const events = [];
  for (let version = 1; version <= count; version++) {
    const result = await store.append(stream, [note(version)], {
      expectedVersion: version === 1 ? NO_STREAM : version - 1,
    });
    events.push(...result.events);
  }
  return { store, events };
}

const everything = async (store: DexieEventStore) => ({
  events: await store.db.events.count(),
  snapshots: await store.db.snapshots.count(),
  notes: await store.db.table('notes').count(),
});

describe('a command append (exact expected version) in one round trip', () => {
  it('behind the tip: the next version is taken, VERSION_CONFLICT, nothing stored', async () => {
    const { store } = await storeWith(3);
    const stale = store.append(stream, [note(2)], {
      expectedVersion: 1,
      snapshot: snapshotAt(2),
      beforeCommit: async (_events, transaction) => {
        await transaction.table('notes').put({ n: 2 });
      },
    });
    await expect(stale).rejects.toMatchObject({
      code: 'VERSION_CONFLICT',
      expectedVersion: 1,
      actualVersion: 3,
    });
    expect(await everything(store)).toEqual({ events: 3, snapshots: 0, notes: 0 });
  });

  it('ahead of the tip: the add lands, the tip read refuses it, nothing stored', async () => {
    const { store } = await storeWith(1);
    const ahead = store.append(stream, [note(5), note(6)], {
      expectedVersion: 4,
      snapshot: snapshotAt(6),
    });
    await expect(ahead).rejects.toMatchObject({ code: 'VERSION_CONFLICT', actualVersion: 1 });
    expect(await everything(store)).toEqual({ events: 1, snapshots: 0, notes: 0 });
    expect((await store.readStream(stream)).map((event) => event.version)).toEqual([1]);
  });

  it('a stale decision (same version, replaced tip) is VERSION_CONFLICT, nothing stored', async () => {
    const { store } = await storeWith(2);
    const stale = store.append(stream, [note(3)], {
      expectedVersion: 2,
      expectedLastEventId: newKsuid(),
      snapshot: snapshotAt(3),
    });
    await expect(stale).rejects.toMatchObject({ code: 'VERSION_CONFLICT', actualVersion: 2 });
    expect(await everything(store)).toEqual({ events: 2, snapshots: 0, notes: 0 });
  });

  it('re-appending the same ids is already-stored: nothing new, no beforeCommit', async () => {
    const store = await freshStore();
    const events = [note(1), note(2)];
    const first = await store.append(stream, events, { expectedVersion: NO_STREAM });
    let calls = 0;
    const again = await store.append(stream, events, {
      expectedVersion: NO_STREAM,
      snapshot: snapshotAt(2),
      beforeCommit: () => {
        calls++;
      },
    });
    expect(again).toMatchObject({ alreadyStored: true, version: 2 });
    expect(again.events).toEqual(first.events);
    expect(calls).toBe(0);
    expect(await everything(store)).toEqual({ events: 2, snapshots: 0, notes: 0 });
  });

  it('an id stored in another stream is DUPLICATE_EVENT_ID, nothing stored', async () => {
    const store = await freshStore();
    const shared = note(1);
    await store.append({ ...stream, aggregateId: 'other' }, [shared], {
      expectedVersion: NO_STREAM,
    });
    const duplicate = store.append(stream, [note(0), shared], {
      expectedVersion: NO_STREAM,
      snapshot: snapshotAt(2),
    });
    await expect(duplicate).rejects.toMatchObject({ code: 'DUPLICATE_EVENT_ID' });
    expect(await everything(store)).toEqual({ events: 1, snapshots: 0, notes: 0 });
  });

  it('a failure inside beforeCommit, after its writes, leaves nothing stored', async () => {
    const { store } = await storeWith(1);
    const failing = store.append(stream, [note(2)], {
      expectedVersion: 1,
      snapshot: snapshotAt(2),
      beforeCommit: async (_events, transaction) => {
        await transaction.table('notes').put({ n: 2 });
        await transaction.table('notes').put({ n: 3 });
        throw new Error('projection failed');
      },
    });
    await expect(failing).rejects.toThrow('projection failed');
    expect(await everything(store)).toEqual({ events: 1, snapshots: 0, notes: 0 });
    // The stream is untouched: the same version appends next.
    expect((await store.append(stream, [note(2)], { expectedVersion: 1 })).version).toBe(2);
  });

  it('commits only after every write beforeCommit awaits, one after another', async () => {
    const { store } = await storeWith(1);
    const result = await store.append(stream, [note(2), note(3)], {
      expectedVersion: 1,
      snapshot: snapshotAt(3),
      beforeCommit: async (events, transaction) => {
        const notes = transaction.table<{ n: number; position?: number }>('notes');
        for (const event of events) {
          const before = await notes.get(0);
          await notes.put({ n: event.version, position: event.position });
          await notes.put({ n: 0, position: (before?.position ?? 0) + 1 });
        }
      },
    });
    expect(result.version).toBe(3);
    expect(await everything(store)).toEqual({ events: 3, snapshots: 1, notes: 3 });
    expect(await store.db.table('notes').get(0)).toEqual({ n: 0, position: 2 });
    const positions = result.events.map((event) => event.position);
    expect((await store.db.table('notes').get(3)).position).toBe(positions[1]);
    expect((await store.loadSnapshot(stream))?.version).toBe(3);
  });

  it('live queries on the log see the append', async () => {
    const { store } = await storeWith(1);
    const seen: number[] = [];
    const subscription = liveQuery(() => store.db.events.count()).subscribe((count) => {
      seen.push(count);
    });
    await expect.poll(() => seen.at(-1)).toBe(1);
    await store.append(stream, [note(2)], { expectedVersion: 1 });
    await expect.poll(() => seen.at(-1)).toBe(2);
    subscription.unsubscribe();
  });

  describe('alsoAdd (the pending command row)', () => {
    const row = (commandId: string) => ({
      commandId,
      aggregateType: 'Note',
      aggregateId: 'n1',
      command: 'note',
      input: {},
      metadata: {},
      eventIds: [],
      executedAt: new Date().toISOString(),
    });
    const refused = () => new Error('refused');

    for (const [path, expected] of [
      ['one round trip', NO_STREAM],
      ['planned', ANY],
    ] as const) {
      it(`${path}: lands with the events; a refused row stores nothing`, async () => {
        const store = await freshStore();
        let rowsSeen = -1;
        await store.append(stream, [note(1)], {
          expectedVersion: expected,
          alsoAdd: { table: 'commands', row: row('c1'), refused },
          beforeCommit: async (_events, transaction) => {
            rowsSeen = await transaction.table('commands').count();
          },
        });
        expect(rowsSeen).toBe(1);
        const again = store.append(stream, [note(2)], {
          expectedVersion: expected === ANY ? ANY : 1,
          snapshot: snapshotAt(2),
          alsoAdd: { table: 'commands', row: row('c1'), refused },
        });
        await expect(again).rejects.toThrow('refused');
        expect(await everything(store)).toEqual({ events: 1, snapshots: 0, notes: 0 });
        expect(await store.db.commands.count()).toBe(1);
      });
    }

    it('is not added when the events were already stored', async () => {
      const store = await freshStore();
      const events = [note(1)];
      await store.append(stream, events, { expectedVersion: NO_STREAM });
      const again = await store.append(stream, events, {
        expectedVersion: NO_STREAM,
        alsoAdd: { table: 'commands', row: row('c2'), refused },
      });
      expect(again.alreadyStored).toBe(true);
      expect(await store.db.commands.count()).toBe(0);
    });

    it('a version conflict wins over a refused row (the caller reloads first)', async () => {
      const { store } = await storeWith(2);
      await store.db.commands.add(row('c3'));
      const stale = store.append(stream, [note(2)], {
        expectedVersion: 1,
        alsoAdd: { table: 'commands', row: row('c3'), refused },
      });
      await expect(stale).rejects.toMatchObject({ code: 'VERSION_CONFLICT' });
    });
  });
});
