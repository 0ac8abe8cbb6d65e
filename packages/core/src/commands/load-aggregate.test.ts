import { describe, expect, it, vi } from 'vitest';
import { defineCounter } from '../../test/fixtures/counter.ts';
import { ANY, NO_STREAM } from '../event-store/expected-version.ts';
import { createInMemoryEventStore } from '../event-store/in-memory-event-store.ts';
import { newKsuid } from '../ids/ksuid.ts';
import { createCommandHandler } from './command-handler.ts';
import { loadAggregate } from './load-aggregate.ts';

const stream = { aggregateType: 'Counter', aggregateId: 'c1' };
const raw = (type: string, schemaVersion: number, data: unknown) => ({
  id: newKsuid(),
  type,
  schemaVersion,
  occurredAt: '2026-01-01T00:00:00.000Z',
  data,
  metadata: {},
});

describe('loadAggregate', () => {
  it('is the initial state at version 0 for an aggregate without events', async () => {
    const loaded = await loadAggregate(createInMemoryEventStore(), defineCounter(), 'none');
    expect(loaded).toEqual({ state: { count: 0, resets: 0 }, version: 0, snapshotVersion: 0 });
  });

  it('pages through long histories', async () => {
    const store = createInMemoryEventStore();
    await store.append(
      stream,
      Array.from({ length: 25 }, () => raw('Incremented', 2, { by: 1, note: '' })),
      {
        expectedVersion: NO_STREAM,
      },
    );
    const readStream = vi.spyOn(store, 'readStream');
    const loaded = await loadAggregate(store, defineCounter(), 'c1', { batchSize: 10 });
    expect(loaded.state.count).toBe(25);
    expect(readStream.mock.calls.map(([, options]) => options?.fromVersion)).toEqual([1, 11, 21]);
  });

  it('upcasts old schema versions while loading', async () => {
    const store = createInMemoryEventStore();
    await store.append(
      stream,
      [raw('Incremented', 1, { by: 2 }), raw('Incremented', 2, { by: 3, note: 'n' })],
      {
        expectedVersion: NO_STREAM,
      },
    );
    expect((await loadAggregate(store, defineCounter(), 'c1')).state.count).toBe(5);
  });

  it('refuses stored events of unknown types or invalid data with typed errors', async () => {
    const unknownType = createInMemoryEventStore();
    await unknownType.append(stream, [raw('Teleported', 1, {})], { expectedVersion: ANY });
    await expect(loadAggregate(unknownType, defineCounter(), 'c1')).rejects.toMatchObject({
      code: 'UNKNOWN_EVENT_TYPE',
    });
    const futureVersion = createInMemoryEventStore();
    await futureVersion.append(stream, [raw('Incremented', 3, { by: 1 })], {
      expectedVersion: ANY,
    });
    await expect(loadAggregate(futureVersion, defineCounter(), 'c1')).rejects.toMatchObject({
      code: 'UNKNOWN_EVENT_TYPE',
      schemaVersion: 3,
    });
    const invalid = createInMemoryEventStore();
    await invalid.append(stream, [raw('Incremented', 2, { by: 'lots' })], { expectedVersion: ANY });
    await expect(loadAggregate(invalid, defineCounter(), 'c1')).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  describe('snapshots', () => {
    it('are written per the policy and loading starts after the snapshot version', async () => {
      const store = createInMemoryEventStore();
      const Counter = defineCounter(3);
      const app = createCommandHandler({ store });
      for (let i = 0; i < 7; i++) await app.execute(Counter, 'c1', 'increment', { by: 1 });

      const snapshot = await store.loadSnapshot(stream);
      expect(snapshot).toMatchObject({ version: 6, state: { count: 6, resets: 0 } });
      const readStream = vi.spyOn(store, 'readStream');
      const loaded = await loadAggregate(store, Counter, 'c1');
      // Never re-applies the snapshot's last event: 6 from the snapshot + 1 event = 7. That
      // event is read only for its id, which pins the tip.
      const events = await store.readStream(stream);
      expect(loaded).toEqual({
        state: { count: 7, resets: 0 },
        version: 7,
        snapshotVersion: 6,
        lastEventId: events[6]?.id,
      });
      expect(readStream.mock.calls[0]?.[1]?.fromVersion).toBe(6);
    });

    it('reads again when a base is adopted between its snapshot read and its event read', async () => {
      const store = createInMemoryEventStore();
      const Counter = defineCounter(3);
      const app = createCommandHandler({ store });
      for (let i = 0; i < 4; i++) await app.execute(Counter, 'c1', 'increment', { by: 1 });
      const snapshot = await store.loadSnapshot(stream); // at version 3
      const events = await store.readStream(stream);
      // As a device that adopted a server base at version 3 holds it: no event below the base.
      const loadSnapshot = vi
        .spyOn(store, 'loadSnapshot')
        .mockResolvedValueOnce(undefined) // read before the adoption committed
        .mockResolvedValue(snapshot);
      vi.spyOn(store, 'readStream').mockImplementation(async (_stream, options) =>
        events.filter((event) => event.version >= Math.max(3, options?.fromVersion ?? 1)),
      );
      expect(await loadAggregate(store, Counter, 'c1')).toEqual({
        state: { count: 4, resets: 0 },
        version: 4,
        snapshotVersion: 3,
        lastEventId: events[3]?.id,
      });
      expect(loadSnapshot).toHaveBeenCalledTimes(2);
    });

    it('refuses a gap that is still there when it reads again', async () => {
      const store = createInMemoryEventStore();
      const Counter = defineCounter(3);
      const app = createCommandHandler({ store });
      for (let i = 0; i < 4; i++) await app.execute(Counter, 'c1', 'increment', { by: 1 });
      const events = await store.readStream(stream);
      vi.spyOn(store, 'loadSnapshot').mockResolvedValue(undefined);
      const readStream = vi
        .spyOn(store, 'readStream')
        .mockResolvedValue(events.filter((event) => event.version >= 3));
      await expect(loadAggregate(store, Counter, 'c1')).rejects.toMatchObject({
        code: 'INTERNAL',
        message: 'Counter/c1: the store returned version 3 after 0',
      });
      expect(readStream).toHaveBeenCalledTimes(2);
    });

    it('a snapshot with another fingerprint is ignored', async () => {
      const store = createInMemoryEventStore();
      const app = createCommandHandler({ store });
      for (let i = 0; i < 4; i++) await app.execute(defineCounter(2), 'c1', 'increment', { by: 1 });
      expect((await store.loadSnapshot(stream))?.version).toBe(4);

      const revised = await loadAggregate(store, defineCounter(2, 'evolve-changed'), 'c1');
      expect(revised).toMatchObject({
        state: { count: 4, resets: 0 },
        version: 4,
        snapshotVersion: 0,
      });
    });

    it('a snapshot whose state fails the schema is ignored', async () => {
      const store = createInMemoryEventStore();
      const Counter = defineCounter(2);
      const app = createCommandHandler({ store });
      for (let i = 0; i < 2; i++) await app.execute(Counter, 'c1', 'increment', { by: 1 });
      const snapshot = await store.loadSnapshot(stream);
      await store.saveSnapshot({
        ...(snapshot as NonNullable<typeof snapshot>),
        state: { count: 'two' },
      });
      expect(await loadAggregate(store, Counter, 'c1')).toMatchObject({
        state: { count: 2, resets: 0 },
        version: 2,
        snapshotVersion: 0,
      });
    });

    it('a snapshot commits with its events: a vetoed append leaves none', async () => {
      const store = createInMemoryEventStore();
      const veto = { name: 'veto', react: () => Promise.reject(new Error('vetoed')) };
      const app = createCommandHandler({ store, syncReactors: [veto] });
      await expect(app.execute(defineCounter(1), 'c1', 'increment', { by: 1 })).rejects.toThrow(
        'vetoed',
      );
      expect(await store.loadSnapshot(stream)).toBeUndefined();
    });
  });
});
