import { describe, expect, it, vi } from 'vitest';
import { Counter } from '../../test/fixtures/counter.ts';
import { isStrataError } from '../errors/errors.ts';
import { NO_STREAM } from '../event-store/expected-version.ts';
import {
  createInMemoryEventStore,
  type InMemoryEventStore,
  type InMemoryTransaction,
} from '../event-store/in-memory-event-store.ts';
import { isKsuid } from '../ids/ksuid.ts';
import { defineInlineProjection } from '../projections/inline-projection.ts';
import { defineAsyncReactor } from '../reactors/async-reactor.ts';
import { defineSyncReactor } from '../reactors/sync-reactor.ts';
import type { BackoffOptions } from '../timing/backoff.ts';
import { createCommandHandler } from './command-handler.ts';

const totals = defineInlineProjection({
  name: 'totals',
  aggregate: Counter,
  apply(event, tx: InMemoryTransaction) {
    const model = tx.readModel<number>('totals');
    const before = model.get(event.aggregateId) ?? 0;
    model.put(event.aggregateId, event.type === 'Incremented' ? before + event.data.by : 0);
  },
});

async function everything(store: InMemoryEventStore) {
  return (await store.readAll({ limit: 10_000 })).events;
}

describe('createCommandHandler', () => {
  it('decides, appends and returns events, state and version', async () => {
    const store = createInMemoryEventStore();
    const app = createCommandHandler({ store });
    const first = await app.execute(Counter, 'c1', 'increment', { by: 2 });
    const second = await app.execute(Counter, 'c1', 'incrementTwice', { by: 5 });

    expect(first.state).toEqual({ count: 2, resets: 0 });
    expect(second.state).toEqual({ count: 12, resets: 0 });
    expect(second.version).toBe(3);
    expect(second.events.map((event) => [event.version, event.data])).toEqual([
      [2, { by: 5, note: 'first' }],
      [3, { by: 5, note: 'second' }],
    ]);
    expect(second.events.every((event) => isKsuid(event.id))).toBe(true);
    expect(await app.load(Counter, 'c1')).toEqual({
      state: { count: 12, resets: 0 },
      version: 3,
      snapshotVersion: 0,
      lastEventId: second.events[1]?.id,
    });
  });

  it('writes command metadata into every event of the command', async () => {
    const store = createInMemoryEventStore();
    const app = createCommandHandler({ store, metadata: { clientId: 'tab-1', app: 'x' } });
    const { events } = await app.execute(
      Counter,
      'c1',
      'incrementTwice',
      { by: 1 },
      {
        metadata: { userId: 'u-7', correlationId: 'corr-1', tenantHint: 'blue' },
      },
    );
    const [a, b] = events;
    expect(a?.metadata).toEqual(b?.metadata);
    expect(a?.metadata).toMatchObject({
      clientId: 'tab-1',
      app: 'x',
      userId: 'u-7',
      correlationId: 'corr-1',
      tenantHint: 'blue',
    });
    // Without an explicit causation, a command's events are caused by the command itself.
    expect(a?.metadata.causationId).toBe(a?.metadata.commandId);
    expect(a?.metadata.commandId).toEqual(expect.any(String));

    const caused = await app.execute(
      Counter,
      'c1',
      'increment',
      { by: 1 },
      {
        metadata: { commandId: 'cmd-2', causationId: a?.id as string },
      },
    );
    expect(caused.events[0]?.metadata).toMatchObject({
      commandId: 'cmd-2',
      causationId: a?.id,
      correlationId: 'cmd-2',
    });
  });

  it('records the executed command inside the append transaction', async () => {
    const store = createInMemoryEventStore();
    const recorded: unknown[] = [];
    const app = createCommandHandler({
      store,
      projections: [totals],
      recordCommand(command, tx) {
        // Runs after projections, in the same transaction: it sees their staged writes.
        recorded.push({ ...command, totalSeen: tx.readModel('totals').get(command.aggregateId) });
      },
    });
    const { events } = await app.execute(
      Counter,
      'c1',
      'increment',
      { by: 2 },
      { metadata: { commandId: 'cmd-1' } },
    );
    expect(recorded).toEqual([
      expect.objectContaining({
        aggregateType: 'Counter',
        aggregateId: 'c1',
        command: 'increment',
        input: { by: 2 },
        metadata: expect.objectContaining({ commandId: 'cmd-1' }),
        events,
        totalSeen: 2,
      }),
    ]);
  });

  it('a throwing recordCommand aborts the append', async () => {
    const store = createInMemoryEventStore();
    const app = createCommandHandler({
      store,
      recordCommand: () => Promise.reject(new Error('outbox full')),
    });
    await expect(app.execute(Counter, 'c1', 'increment', { by: 2 })).rejects.toThrow('outbox full');
    expect(await everything(store)).toEqual([]);
  });

  it('applies zod defaults and transforms to command input', async () => {
    const app = createCommandHandler({ store: createInMemoryEventStore() });
    const { events } = await app.execute(Counter, 'c1', 'increment', { by: 3 });
    expect(events[0]?.data).toEqual({ by: 3, note: '' });
  });

  it('decides nothing without appending', async () => {
    const store = createInMemoryEventStore();
    const app = createCommandHandler({ store });
    const result = await app.execute(Counter, 'c1', 'noop', {});
    expect(result).toEqual({ events: [], state: { count: 0, resets: 0 }, version: 0 });
    expect(await everything(store)).toEqual([]);
  });

  describe('bad input raises typed errors and leaves the store unchanged', () => {
    async function setup() {
      const store = createInMemoryEventStore();
      const app = createCommandHandler({ store, projections: [totals] });
      await app.execute(Counter, 'c1', 'increment', { by: 1 });
      const before = await everything(store);
      const totalsBefore = new Map(store.readModel('totals'));
      const unchanged = async () => {
        expect(await everything(store)).toEqual(before);
        expect(new Map(store.readModel('totals'))).toEqual(totalsBefore);
      };
      return { app, unchanged };
    }

    it('invalid command input is VALIDATION_FAILED with issues', async () => {
      const { app, unchanged } = await setup();
      const error = await app
        .execute(Counter, 'c1', 'increment', { by: 0 })
        .catch((e: unknown) => e);
      expect(isStrataError(error, 'VALIDATION_FAILED')).toBe(true);
      if (isStrataError(error, 'VALIDATION_FAILED')) expect(error.issues[0]?.path).toEqual(['by']);
      await expect(
        app.execute(Counter, 'c1', 'increment', 'nonsense' as never),
      ).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      await unchanged();
    });

    it('an event type the aggregate does not declare is UNKNOWN_EVENT_TYPE', async () => {
      const { app, unchanged } = await setup();
      await expect(app.execute(Counter, 'c1', 'emitUnknown', {})).rejects.toMatchObject({
        code: 'UNKNOWN_EVENT_TYPE',
        eventType: 'Vanished',
      });
      await unchanged();
    });

    it('event data failing its schema is VALIDATION_FAILED', async () => {
      const { app, unchanged } = await setup();
      await expect(app.execute(Counter, 'c1', 'emitInvalid', {})).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      await unchanged();
    });

    it('an unknown command name is UNKNOWN_COMMAND, even one inherited from Object', async () => {
      const { app, unchanged } = await setup();
      for (const name of ['explode', 'constructor', 'toString', '__proto__']) {
        await expect(app.execute(Counter, 'c1', name as never, {} as never)).rejects.toMatchObject({
          code: 'UNKNOWN_COMMAND',
        });
      }
      await unchanged();
    });

    it('a domain error thrown by decide reaches the caller unchanged', async () => {
      const { app, unchanged } = await setup();
      await expect(app.execute(Counter, 'empty', 'reset', { reason: 'x' })).rejects.toMatchObject({
        code: 'DOMAIN_RULE_VIOLATED',
        reason: 'ALREADY_ZERO',
      });
      await unchanged();
    });
  });

  describe('expected versions and concurrency', () => {
    it('an explicit expected version that does not hold is a VERSION_CONFLICT before deciding', async () => {
      const store = createInMemoryEventStore();
      const app = createCommandHandler({ store });
      await app.execute(Counter, 'c1', 'increment', { by: 1 });
      await expect(
        app.execute(Counter, 'c1', 'increment', { by: 1 }, { expectedVersion: NO_STREAM }),
      ).rejects.toMatchObject({
        code: 'VERSION_CONFLICT',
        expectedVersion: NO_STREAM,
        actualVersion: 1,
      });
      await expect(
        app.execute(Counter, 'c1', 'increment', { by: 1 }, { expectedVersion: 1 }),
      ).resolves.toMatchObject({ version: 2 });
    });

    it('racing commands: without retries one conflicts, with retries both land contiguously', async () => {
      const store = createInMemoryEventStore();
      const strict = createCommandHandler({ store });
      const outcomes = await Promise.allSettled([
        strict.execute(Counter, 'c1', 'increment', { by: 1 }),
        strict.execute(Counter, 'c1', 'increment', { by: 1 }),
      ]);
      expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);

      const patient = createCommandHandler({ store, conflictRetries: 3 });
      const results = await Promise.all(
        Array.from({ length: 4 }, () => patient.execute(Counter, 'c2', 'increment', { by: 1 })),
      );
      expect(results.map((result) => result.version).sort()).toEqual([1, 2, 3, 4]);
      expect(
        (await store.readStream({ aggregateType: 'Counter', aggregateId: 'c2' })).map(
          (e) => e.version,
        ),
      ).toEqual([1, 2, 3, 4]);
    });
  });

  describe('projections and reactors', () => {
    it('inline projections commit with the append', async () => {
      const store = createInMemoryEventStore();
      const app = createCommandHandler({ store, projections: [totals] });
      await app.execute(Counter, 'a', 'increment', { by: 4 });
      await app.execute(Counter, 'a', 'incrementTwice', { by: 1 });
      await app.execute(Counter, 'b', 'increment', { by: 9 });
      expect(Object.fromEntries(store.readModel('totals'))).toEqual({ a: 6, b: 9 });
    });

    it('a throwing sync reactor vetoes the append: no events, no projection writes', async () => {
      const store = createInMemoryEventStore();
      const veto = defineSyncReactor({
        name: 'no-big-steps',
        aggregate: Counter,
        react(event) {
          if (event.type === 'Incremented' && event.data.by > 10) throw new Error('too big');
        },
      });
      const asyncCalls: string[] = [];
      const app = createCommandHandler({
        store,
        projections: [totals],
        syncReactors: [veto],
        asyncReactors: [
          defineAsyncReactor({
            name: 'log',
            aggregate: Counter,
            react: (e) => void asyncCalls.push(e.id),
          }),
        ],
      });
      await app.execute(Counter, 'a', 'increment', { by: 3 });
      await expect(app.execute(Counter, 'a', 'increment', { by: 11 })).rejects.toThrow('too big');
      await app.whenIdle();
      expect((await everything(store)).length).toBe(1);
      expect(Object.fromEntries(store.readModel('totals'))).toEqual({ a: 3 });
      expect(asyncCalls).toHaveLength(1);
    });

    it('async reactors run after commit, are retried, and report lasting failures', async () => {
      const store = createInMemoryEventStore();
      const seen: string[] = [];
      let failuresLeft = 2;
      const flaky = defineAsyncReactor({
        name: 'flaky',
        aggregate: Counter,
        async react(event) {
          expect(
            await store.readStream({ aggregateType: 'Counter', aggregateId: event.aggregateId }),
          ).toContainEqual(expect.objectContaining({ id: event.id }));
          if (failuresLeft-- > 0) throw new Error('flaky');
          seen.push(event.id);
        },
      });
      const broken = defineAsyncReactor({
        name: 'broken',
        aggregate: Counter,
        react: () => {
          throw new Error('always');
        },
      });
      const onError = vi.fn();
      const app = createCommandHandler({
        store,
        asyncReactors: [flaky, broken],
        onError,
        asyncReactorAttempts: 3,
      });
      const { events } = await app.execute(Counter, 'a', 'increment', { by: 1 });
      await app.whenIdle();
      expect(seen).toEqual([events[0]?.id]);
      expect(onError).toHaveBeenCalledTimes(1);
      expect(onError.mock.calls[0]?.[1]).toContain('broken');
    });

    it('waits between async reactor attempts by the backoff: 10, 20 ms by default, or as configured', async () => {
      const waitsOf = async (backoff?: BackoffOptions) => {
        const always = defineAsyncReactor({
          name: 'always-failing',
          aggregate: Counter,
          react: () => {
            throw new Error('always');
          },
        });
        const app = createCommandHandler({
          store: createInMemoryEventStore(),
          asyncReactors: [always],
          asyncReactorAttempts: 4,
          onError: () => {},
          ...(backoff === undefined ? {} : { asyncReactorBackoff: backoff }),
        });
        const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
        try {
          await app.execute(Counter, 'a', 'increment', { by: 1 });
          await app.whenIdle();
          return setTimeoutSpy.mock.calls.map((call) => call[1]);
        } finally {
          setTimeoutSpy.mockRestore();
        }
      };
      expect(await waitsOf()).toEqual([10, 20, 40]);
      expect(await waitsOf({ initialDelayMs: 1, maxDelayMs: 3 })).toEqual([1, 2, 3]);
    });

    it('nothing but evolve runs when state is loaded (replay)', async () => {
      const store = createInMemoryEventStore();
      const apply = vi.fn(totals.apply);
      const react = vi.fn();
      const writer = createCommandHandler({
        store,
        projections: [{ ...totals, apply }],
        syncReactors: [{ name: 'sync', react }],
        asyncReactors: [{ name: 'async', react }],
      });
      await writer.execute(Counter, 'a', 'incrementTwice', { by: 1 });
      await writer.whenIdle();
      const callsAfterWrite = [apply.mock.calls.length, react.mock.calls.length];
      expect(callsAfterWrite).toEqual([2, 4]);
      await writer.load(Counter, 'a');
      await writer.execute(Counter, 'a', 'noop', {});
      await writer.whenIdle();
      expect([apply.mock.calls.length, react.mock.calls.length]).toEqual(callsAfterWrite);
    });
  });
});

describe('stateCacheSize', () => {
  it('decides the next command on the state the last one left, without loading', async () => {
    const store = createInMemoryEventStore();
    const app = createCommandHandler({ store, stateCacheSize: 10 });
    await app.execute(Counter, 'c1', 'increment', { by: 2 });
    const reads = vi.spyOn(store, 'readStream');
    const result = await app.execute(Counter, 'c1', 'increment', { by: 3 });
    expect(reads).not.toHaveBeenCalled();
    expect(result).toMatchObject({ state: { count: 5 }, version: 2 });
  });

  it('a stale entry costs a reload, not a wrong decision and not a conflict retry', async () => {
    const store = createInMemoryEventStore();
    const cached = createCommandHandler({ store, stateCacheSize: 10, conflictRetries: 0 });
    const other = createCommandHandler({ store });
    await cached.execute(Counter, 'c1', 'increment', { by: 1 });
    await other.execute(Counter, 'c1', 'reset', { reason: 'elsewhere' });
    const result = await cached.execute(Counter, 'c1', 'increment', { by: 4 });
    expect(result).toMatchObject({ state: { count: 4, resets: 1 }, version: 3 });
  });

  it('recheckCachedRefusals: a refusal or an empty decision on a cached state is decided again on the stored one', async () => {
    const store = createInMemoryEventStore();
    const cached = createCommandHandler({
      store,
      stateCacheSize: 10,
      conflictRetries: 0,
      recheckCachedRefusals: true,
    });
    const other = createCommandHandler({ store });
    await cached.execute(Counter, 'c1', 'increment', { by: 1 });
    await cached.execute(Counter, 'c1', 'reset', { reason: 'start' });
    // Cached at count 0; another writer counts on.
    await other.execute(Counter, 'c1', 'increment', { by: 3 });
    // On the cached state, a reset would be refused (ALREADY_ZERO); the stored count is 3.
    const reset = await cached.execute(Counter, 'c1', 'reset', { reason: 'again' });
    expect(reset).toMatchObject({ state: { count: 0, resets: 2 }, version: 4 });
    // And a true refusal stays one after the reload.
    await expect(cached.execute(Counter, 'c1', 'reset', { reason: 'twice' })).rejects.toMatchObject(
      { code: 'DOMAIN_RULE_VIOLATED' },
    );
    const reads = vi.spyOn(store, 'readStream');
    await cached.execute(Counter, 'c1', 'noop', {});
    expect(reads).toHaveBeenCalled();
  });

  it('forgetState drops a cached state: the next command loads the stored one', async () => {
    const store = createInMemoryEventStore();
    const app = createCommandHandler({ store, stateCacheSize: 10 });
    await app.execute(Counter, 'c1', 'increment', { by: 2 });
    app.forgetState({ aggregateType: Counter.type, aggregateId: 'c1' });
    const reads = vi.spyOn(store, 'readStream');
    const result = await app.execute(Counter, 'c1', 'increment', { by: 3 });
    expect(reads).toHaveBeenCalled();
    expect(result).toMatchObject({ state: { count: 5 }, version: 2 });
  });

  it('keeps the most recently used aggregates only', async () => {
    const store = createInMemoryEventStore();
    const app = createCommandHandler({ store, stateCacheSize: 1 });
    await app.execute(Counter, 'a', 'increment', { by: 1 });
    await app.execute(Counter, 'b', 'increment', { by: 1 });
    const reads = vi.spyOn(store, 'readStream');
    await app.execute(Counter, 'b', 'increment', { by: 1 });
    expect(reads).not.toHaveBeenCalled();
    await app.execute(Counter, 'a', 'increment', { by: 1 });
    expect(reads).toHaveBeenCalled();
  });
});
