import { isAnyStrataError } from '../errors/strata-error.ts';
import type { EventStore } from '../event-store/event-store.ts';
import { ANY, NO_STREAM, STREAM_EXISTS } from '../event-store/expected-version.ts';
import type { StreamRef } from '../event-store/stream-ref.ts';
import type { NewEvent, StoredEvent } from '../events/event.ts';
import { newKsuid } from '../ids/ksuid.ts';
import { AssertionError, assertEqual, assertRejectsWith, assertTrue } from './assertions.ts';

/** Makes a fresh, empty store for one contract case. */
export type EventStoreFactory = () => EventStore<unknown> | Promise<EventStore<unknown>>;

/** One named case of the contract. */
export interface ContractCase {
  readonly name: string;
  readonly run: (store: EventStore<unknown>) => Promise<void>;
}

/** The outcome of one case in `runEventStoreContract`. */
export interface ContractResult {
  readonly name: string;
  readonly passed: boolean;
  readonly error?: unknown;
}

let streamCounter = 0;
/** A stream name no other case uses, so stores shared between cases stay correct. */
const freshStream = (aggregateType = 'ContractItem'): StreamRef => ({
  aggregateType,
  aggregateId: `item-${Date.now().toString(36)}-${(streamCounter++).toString(36)}`,
});

const newEvent = (data: unknown = {}, type = 'ItemNoted'): NewEvent => ({
  id: newKsuid(),
  type,
  schemaVersion: 1,
  occurredAt: '2026-01-02T03:04:05.000Z',
  data,
  metadata: { commandId: 'contract' },
});

const events = (count: number, prefix = 'n'): NewEvent[] =>
  Array.from({ length: count }, (_, index) => newEvent({ n: `${prefix}${index + 1}` }));

const versions = (stored: readonly StoredEvent[]) => stored.map((event) => event.version);
const ids = (stored: readonly { id: string }[]) => stored.map((event) => event.id);

/** Every event of the store after `after`, paging with `limit`. */
async function readEverything(store: EventStore<unknown>, limit = 1000, after?: string) {
  const all: StoredEvent[] = [];
  let cursor = after;
  for (let page = 0; page < 10_000; page++) {
    const result = await store.readAll({
      ...(cursor === undefined ? {} : { after: cursor }),
      limit,
    });
    all.push(...result.events);
    cursor = result.cursor;
    if (!result.hasMore) return { events: all, cursor };
  }
  throw new AssertionError('readAll never reported hasMore: false');
}

async function readOwn(store: EventStore<unknown>, stream: StreamRef) {
  return store.readStream(stream);
}

/**
 * The event store contract: every backend (in-memory, Dexie, Postgres, PGlite) must pass each
 * case. Stores may be shared between cases (every case uses its own streams), but a case may
 * read the global order, so prefer a fresh store per case.
 */
export const eventStoreContract: readonly ContractCase[] = [
  {
    name: 'append: NO_STREAM on a new stream numbers versions from 1 and assigns positions',
    async run(store) {
      const stream = freshStream();
      const appended = events(3);
      const result = await store.append(stream, appended, { expectedVersion: NO_STREAM });
      assertEqual(result.version, 3, 'version after the append');
      assertEqual(result.alreadyStored, false, 'alreadyStored');
      assertEqual(versions(result.events), [1, 2, 3], 'versions');
      assertEqual(ids(result.events), ids(appended), 'ids in order');
      const positions = result.events.map((event) => event.position);
      assertTrue(
        positions.every((position, i) => i === 0 || position > (positions[i - 1] as number)),
        `positions increase: ${positions.join(', ')}`,
      );
      for (const event of result.events) {
        assertEqual(
          [event.aggregateType, event.aggregateId],
          [stream.aggregateType, stream.aggregateId],
          'stream',
        );
        assertTrue(!Number.isNaN(Date.parse(event.recordedAt)), 'recordedAt is an ISO time');
      }
      assertEqual(versions(await readOwn(store, stream)), [1, 2, 3], 'stored versions');
    },
  },
  {
    name: 'append: NO_STREAM on a stream with events is a VERSION_CONFLICT with both versions',
    async run(store) {
      const stream = freshStream();
      await store.append(stream, events(2), { expectedVersion: NO_STREAM });
      const error = await assertRejectsWith(
        () => store.append(stream, events(1), { expectedVersion: NO_STREAM }),
        'VERSION_CONFLICT',
        'second NO_STREAM append',
      );
      assertEqual([error.expectedVersion, error.actualVersion], [NO_STREAM, 2], 'expected/actual');
      assertEqual(versions(await readOwn(store, stream)), [1, 2], 'nothing more stored');
    },
  },
  {
    name: 'append: a matching exact expected version appends after it',
    async run(store) {
      const stream = freshStream();
      await store.append(stream, events(2), { expectedVersion: NO_STREAM });
      const result = await store.append(stream, events(2, 'm'), { expectedVersion: 2 });
      assertEqual(versions(result.events), [3, 4], 'versions');
      assertEqual(versions(await readOwn(store, stream)), [1, 2, 3, 4], 'stored versions');
    },
  },
  {
    name: 'append: a stale exact expected version is a VERSION_CONFLICT with both versions',
    async run(store) {
      const stream = freshStream();
      await store.append(stream, events(3), { expectedVersion: NO_STREAM });
      for (const stale of [1, 2, 4]) {
        const error = await assertRejectsWith(
          () => store.append(stream, events(1), { expectedVersion: stale }),
          'VERSION_CONFLICT',
          `append expecting ${stale}`,
        );
        assertEqual([error.expectedVersion, error.actualVersion], [stale, 3], 'expected/actual');
      }
      const onEmpty = await assertRejectsWith(
        () => store.append(freshStream(), events(1), { expectedVersion: 1 }),
        'VERSION_CONFLICT',
        'exact version on an empty stream',
      );
      assertEqual(onEmpty.actualVersion, 0, 'actual version of an empty stream');
      assertEqual(versions(await readOwn(store, stream)), [1, 2, 3], 'nothing more stored');
    },
  },
  {
    name: 'append: STREAM_EXISTS appends to a stream with events and conflicts on an empty one',
    async run(store) {
      const stream = freshStream();
      const error = await assertRejectsWith(
        () => store.append(stream, events(1), { expectedVersion: STREAM_EXISTS }),
        'VERSION_CONFLICT',
        'STREAM_EXISTS on an empty stream',
      );
      assertEqual(
        [error.expectedVersion, error.actualVersion],
        [STREAM_EXISTS, 0],
        'expected/actual',
      );
      assertEqual(versions(await readOwn(store, stream)), [], 'nothing stored');
      await store.append(stream, events(1), { expectedVersion: NO_STREAM });
      const result = await store.append(stream, events(1, 'm'), { expectedVersion: STREAM_EXISTS });
      assertEqual(versions(result.events), [2], 'versions');
    },
  },
  {
    name: 'append: ANY appends to empty and existing streams',
    async run(store) {
      const stream = freshStream();
      await store.append(stream, events(1), { expectedVersion: ANY });
      const result = await store.append(stream, events(2, 'm'), { expectedVersion: ANY });
      assertEqual(versions(result.events), [2, 3], 'versions');
    },
  },
  {
    name: 'append: exact expected versions below 1 or not integers are VALIDATION_FAILED',
    async run(store) {
      const stream = freshStream();
      for (const invalid of [0, -1, 1.5, Number.NaN]) {
        await assertRejectsWith(
          () => store.append(stream, events(1), { expectedVersion: invalid }),
          'VALIDATION_FAILED',
          `expected version ${invalid}`,
        );
      }
      assertEqual(versions(await readOwn(store, stream)), [], 'nothing stored');
    },
  },
  {
    name: 'append: an empty append is NO_EVENTS',
    async run(store) {
      await assertRejectsWith(
        () => store.append(freshStream(), [], { expectedVersion: ANY }),
        'NO_EVENTS',
        'empty append',
      );
    },
  },
  {
    name: 'append: concurrent appends expecting the same version, exactly one wins',
    async run(store) {
      const stream = freshStream();
      await store.append(stream, events(1), { expectedVersion: NO_STREAM });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 5 }, (_, i) =>
          store.append(stream, events(2, `w${i}-`), { expectedVersion: 1 }),
        ),
      );
      const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      const losers = outcomes.flatMap((outcome) =>
        outcome.status === 'rejected' ? [outcome.reason] : [],
      );
      assertEqual(winners.length, 1, 'successful appends');
      assertTrue(
        losers.every((error) => isAnyStrataError(error) && error.code === 'VERSION_CONFLICT'),
        'every loser gets VERSION_CONFLICT',
      );
      assertEqual(versions(await readOwn(store, stream)), [1, 2, 3], 'stored versions');
    },
  },
  {
    name: 'idempotency: re-appending stored events returns them unchanged and stores nothing new',
    async run(store) {
      const stream = freshStream();
      await store.append(stream, events(1), { expectedVersion: NO_STREAM });
      const batch = events(2, 'r');
      const first = await store.append(stream, batch, { expectedVersion: 1 });
      const retry = await store.append(stream, batch, { expectedVersion: 1 });
      assertEqual(retry.alreadyStored, true, 'alreadyStored on the retry');
      assertEqual(
        retry.events.map((event) => [event.id, event.version, event.position]),
        first.events.map((event) => [event.id, event.version, event.position]),
        'the retry returns the stored events',
      );
      assertEqual(retry.version, 3, 'version after the retry');
      assertEqual(
        versions(await readOwn(store, stream)),
        [1, 2, 3],
        'stream holds each event once',
      );
      const everything = (await readEverything(store)).events.filter((event) =>
        ids(batch).includes(event.id),
      );
      assertEqual(everything.length, 2, 'the global order holds each event once');
    },
  },
  {
    name: 'idempotency: a retry with ANY or NO_STREAM is recognised too',
    async run(store) {
      const stream = freshStream();
      const batch = events(2);
      await store.append(stream, batch, { expectedVersion: NO_STREAM });
      await store.append(stream, events(1, 'later'), { expectedVersion: 2 });
      for (const expectedVersion of [ANY, NO_STREAM] as const) {
        const retry = await store.append(stream, batch, { expectedVersion });
        assertEqual(
          [retry.alreadyStored, versions(retry.events)],
          [true, [1, 2]],
          `retry with ${expectedVersion}`,
        );
      }
      assertEqual(versions(await readOwn(store, stream)), [1, 2, 3], 'nothing duplicated');
    },
  },
  {
    name: 'idempotency: an event id stored elsewhere is DUPLICATE_EVENT_ID and nothing is stored',
    async run(store) {
      const stream = freshStream();
      const other = freshStream();
      const [stored] = events(1);
      await store.append(stream, [stored as NewEvent], { expectedVersion: NO_STREAM });
      await assertRejectsWith(
        () => store.append(other, [stored as NewEvent], { expectedVersion: NO_STREAM }),
        'DUPLICATE_EVENT_ID',
        'same id in another stream',
      );
      await assertRejectsWith(
        () => store.append(stream, [...events(1, 'x'), stored as NewEvent], { expectedVersion: 1 }),
        'DUPLICATE_EVENT_ID',
        'a stored id among new ones',
      );
      assertEqual(versions(await readOwn(store, other)), [], 'nothing stored in the other stream');
      assertEqual(versions(await readOwn(store, stream)), [1], 'nothing more stored');
    },
  },
  {
    name: 'idempotency: a stored id re-appended with different content is DUPLICATE_EVENT_ID',
    async run(store) {
      const stream = freshStream();
      const stored = newEvent({ a: 1, b: [1.5, { c: 'x' }] });
      await store.append(stream, [stored], { expectedVersion: NO_STREAM });
      // The same content in another key order, number form and time zone is still a retry.
      const same: NewEvent = {
        ...stored,
        occurredAt: '2026-01-02T05:04:05.000+02:00',
        data: JSON.parse('{"b": [15e-1, {"c": "x"}], "a": 1.0}'),
        metadata: { commandId: 'contract', clientId: 'stamped by a server' },
      };
      const retry = await store.append(stream, [same], { expectedVersion: NO_STREAM });
      assertEqual(retry.alreadyStored, true, 'the same content is a retry');
      for (const [field, changed] of [
        ['type', { ...stored, type: 'ItemRenamed' }],
        ['schemaVersion', { ...stored, schemaVersion: 2 }],
        ['data', { ...stored, data: { a: 1, b: [1.5, { c: 'y' }] } }],
        ['metadata', { ...stored, metadata: { commandId: 'another' } }],
        ['occurredAt', { ...stored, occurredAt: '2026-01-02T03:04:06.000Z' }],
      ] as const) {
        await assertRejectsWith(
          () => store.append(stream, [changed], { expectedVersion: NO_STREAM }),
          'DUPLICATE_EVENT_ID',
          `a different ${field}`,
        );
      }
      const [kept] = await readOwn(store, stream);
      assertEqual([kept?.type, kept?.data], [stored.type, stored.data], 'the stored event stays');
      assertEqual(versions(await readOwn(store, stream)), [1], 'nothing more stored');
    },
  },
  {
    name: 'idempotency: an id twice in one append is DUPLICATE_EVENT_ID',
    async run(store) {
      const stream = freshStream();
      const [event] = events(1);
      await assertRejectsWith(
        () =>
          store.append(stream, [event as NewEvent, event as NewEvent], {
            expectedVersion: NO_STREAM,
          }),
        'DUPLICATE_EVENT_ID',
        'id twice',
      );
      assertEqual(versions(await readOwn(store, stream)), [], 'nothing stored');
    },
  },
  {
    name: 'atomicity: a multi-event append that conflicts stores none of its events',
    async run(store) {
      const stream = freshStream();
      await store.append(stream, events(2), { expectedVersion: NO_STREAM });
      const batch = events(3, 'c');
      await assertRejectsWith(
        () => store.append(stream, batch, { expectedVersion: 1 }),
        'VERSION_CONFLICT',
        'stale multi-event append',
      );
      assertEqual(versions(await readOwn(store, stream)), [1, 2], 'none stored');
      const leaked = (await readEverything(store)).events.filter((event) =>
        ids(batch).includes(event.id),
      );
      assertEqual(leaked.length, 0, 'none in the global order');
    },
  },
  {
    name: 'atomicity: a throwing beforeCommit stores nothing and its error reaches the caller',
    async run(store) {
      const stream = freshStream();
      await store.append(stream, events(1), { expectedVersion: NO_STREAM });
      const veto = new Error('vetoed by a reactor');
      let caught: unknown;
      try {
        await store.append(stream, events(3, 'v'), {
          expectedVersion: 1,
          beforeCommit: () => {
            throw veto;
          },
        });
      } catch (error) {
        caught = error;
      }
      assertTrue(caught === veto, 'the error thrown by beforeCommit reaches the caller unchanged');
      assertEqual(versions(await readOwn(store, stream)), [1], 'nothing stored');
      const next = await store.append(stream, events(1, 'after'), { expectedVersion: 1 });
      assertEqual(versions(next.events), [2], 'the stream is usable afterwards');
    },
  },
  {
    name: 'atomicity: beforeCommit sees the events with their versions and positions',
    async run(store) {
      const stream = freshStream();
      let seen: readonly StoredEvent[] = [];
      const result = await store.append(stream, events(2), {
        expectedVersion: NO_STREAM,
        beforeCommit: (stored) => {
          seen = stored;
        },
      });
      assertEqual(
        seen.map((event) => [event.id, event.version, event.position]),
        result.events.map((event) => [event.id, event.version, event.position]),
        'events seen in beforeCommit',
      );
    },
  },
  {
    name: 'readStream: version order, from a version, up to a limit',
    async run(store) {
      const stream = freshStream();
      await store.append(stream, events(4), { expectedVersion: NO_STREAM });
      await store.append(stream, events(4, 'm'), { expectedVersion: 4 });
      assertEqual(versions(await store.readStream(stream)), [1, 2, 3, 4, 5, 6, 7, 8], 'all');
      assertEqual(
        versions(await store.readStream(stream, { fromVersion: 3, limit: 4 })),
        [3, 4, 5, 6],
        'from 3, limit 4',
      );
      assertEqual(versions(await store.readStream(stream, { fromVersion: 7 })), [7, 8], 'from 7');
      assertEqual(versions(await store.readStream(stream, { fromVersion: 9 })), [], 'past the end');
      assertEqual(versions(await store.readStream(freshStream())), [], 'unknown stream');
    },
  },
  {
    name: 'readStream: streams are separated by aggregate type and by id',
    async run(store) {
      const stream = freshStream('TypeA');
      const sameIdOtherType = { aggregateType: 'TypeB', aggregateId: stream.aggregateId };
      await store.append(stream, events(2), { expectedVersion: NO_STREAM });
      const other = await store.append(sameIdOtherType, events(1, 'b'), {
        expectedVersion: NO_STREAM,
      });
      assertEqual(versions(other.events), [1], 'the other type starts its own stream');
      assertEqual(versions(await store.readStream(stream)), [1, 2], 'first stream untouched');
      // Names that would collide if type and id were simply joined with a separator.
      const joined = { aggregateType: `${stream.aggregateType}/x`, aggregateId: '1' };
      const split = { aggregateType: stream.aggregateType, aggregateId: 'x/1' };
      await store.append(joined, events(1, 'j'), { expectedVersion: NO_STREAM });
      const separate = await store.append(split, events(1, 's'), { expectedVersion: NO_STREAM });
      assertEqual(versions(separate.events), [1], 'type "A/x" + id "1" is not type "A" + id "x/1"');
      assertEqual((await store.readStream(split)).length, 1, 'each holds only its own event');
    },
  },
  {
    name: 'readStream: data and metadata round-trip exactly',
    async run(store) {
      const stream = freshStream();
      const data = {
        text: 'Grüße, 世界 🌍 "quoted" \\ back',
        n: 1.5,
        negative: -7,
        flag: false,
        none: null,
        list: [1, 'two', { three: [3] }],
        nested: { deeper: { deepest: 'yes' } },
      };
      const event = {
        ...newEvent(data, 'RoundTripped'),
        metadata: { userId: 'u-1', app: { k: [1] } },
      };
      await store.append(stream, [event], { expectedVersion: NO_STREAM });
      const [stored] = await store.readStream(stream);
      assertEqual(
        stored && [
          stored.id,
          stored.type,
          stored.schemaVersion,
          stored.occurredAt,
          stored.data,
          stored.metadata,
        ],
        [event.id, 'RoundTripped', 1, event.occurredAt, data, event.metadata],
        'stored event',
      );
    },
  },
  {
    name: 'readAll: all streams in one global order, positions increasing',
    async run(store) {
      const a = freshStream();
      const b = freshStream();
      const written: string[] = [];
      for (const [stream, expectedVersion, count] of [
        [a, NO_STREAM, 2],
        [b, NO_STREAM, 1],
        [a, 2, 1],
        [b, 1, 3],
      ] as const) {
        const result = await store.append(stream, events(count), { expectedVersion });
        written.push(...ids(result.events));
      }
      const all = (await readEverything(store)).events;
      const ours = all.filter((event) => written.includes(event.id));
      assertEqual(ids(ours), written, 'events in append order');
      const positions = all.map((event) => event.position);
      assertTrue(
        positions.every((position, i) => i === 0 || position > (positions[i - 1] as number)),
        `positions strictly increase: ${positions.join(', ')}`,
      );
    },
  },
  {
    name: 'readAll: paging with cursors returns each event exactly once',
    async run(store) {
      const { cursor: start } = await readEverything(store);
      const streams = [freshStream(), freshStream(), freshStream()];
      const written: string[] = [];
      for (let round = 0; round < 4; round++) {
        for (const stream of streams) {
          const result = await store.append(stream, events(round + 1, `r${round}`), {
            expectedVersion: ANY,
          });
          written.push(...ids(result.events));
        }
      }
      for (const limit of [1, 3, 7, 100]) {
        const paged = await readEverything(store, limit, start);
        assertEqual(
          ids(paged.events),
          written,
          `all new events once, in order, with limit ${limit}`,
        );
      }
      const firstPage = await store.readAll({ after: start, limit: 5 });
      assertEqual(
        [firstPage.events.length, firstPage.hasMore],
        [5, true],
        'a partial page says hasMore',
      );
    },
  },
  {
    name: 'readAll: an exhausted cursor returns no events, the same cursor and hasMore false',
    async run(store) {
      await store.append(freshStream(), events(2), { expectedVersion: NO_STREAM });
      const { cursor } = await readEverything(store);
      const again = await store.readAll({ after: cursor, limit: 10 });
      assertEqual(
        [again.events.length, again.cursor, again.hasMore],
        [0, cursor, false],
        'empty page',
      );
      const stream = freshStream();
      const later = await store.append(stream, events(1), { expectedVersion: NO_STREAM });
      const next = await store.readAll({ after: cursor, limit: 10 });
      assertEqual(ids(next.events), ids(later.events), 'a later event shows up after the cursor');
    },
  },
  {
    name: 'readAll: an invalid cursor is INVALID_CURSOR',
    async run(store) {
      for (const junk of ['not a cursor!', '-1', '{"x":1}', '../../etc']) {
        await assertRejectsWith(
          () => store.readAll({ after: junk }),
          'INVALID_CURSOR',
          `cursor ${junk}`,
        );
      }
    },
  },
  {
    name: 'snapshots: a snapshot given to append commits with the events, and only then',
    async run(store) {
      const stream = freshStream();
      const snapshotAt = (version: number) => ({
        ...stream,
        version,
        state: { at: version },
        fingerprint: 'f',
        takenAt: '2026-01-02T03:04:05.000Z',
      });
      await store.append(stream, events(2), {
        expectedVersion: NO_STREAM,
        snapshot: snapshotAt(2),
      });
      assertEqual(await store.loadSnapshot(stream), snapshotAt(2), 'saved with the append');
      await assertRejectsWith(
        () => store.append(stream, events(1), { expectedVersion: 1, snapshot: snapshotAt(3) }),
        'VERSION_CONFLICT',
        'conflicting append',
      );
      try {
        await store.append(stream, events(1), {
          expectedVersion: 2,
          snapshot: snapshotAt(3),
          beforeCommit: () => {
            throw new Error('veto');
          },
        });
      } catch {
        // expected: the veto aborts the append
      }
      assertEqual(
        await store.loadSnapshot(stream),
        snapshotAt(2),
        'failed appends save no snapshot',
      );
    },
  },
  {
    name: 'snapshots: none for a stream without one',
    async run(store) {
      assertEqual(await store.loadSnapshot(freshStream()), undefined, 'snapshot');
    },
  },
  {
    name: 'snapshots: saved and loaded per stream; a later save replaces it',
    async run(store) {
      const stream = freshStream();
      const other = freshStream();
      const snapshot = {
        ...stream,
        version: 10,
        state: { title: 'Milk', tags: ['a'], done: false },
        fingerprint: 'f1',
        takenAt: '2026-01-02T03:04:05.000Z',
      };
      await store.saveSnapshot(snapshot);
      assertEqual(await store.loadSnapshot(stream), snapshot, 'loaded snapshot');
      assertEqual(await store.loadSnapshot(other), undefined, 'other stream has none');
      const newer = {
        ...snapshot,
        version: 20,
        state: { title: 'Eggs', tags: [], done: true },
        fingerprint: 'f2',
      };
      await store.saveSnapshot(newer);
      assertEqual(await store.loadSnapshot(stream), newer, 'newer snapshot');
    },
  },
];

/**
 * Runs the contract against a store factory and reports each case, without a test runner.
 * A fresh store is made per case.
 *
 * @example
 * const results = await runEventStoreContract(() => createInMemoryEventStore());
 * console.log(results.filter((result) => !result.passed));
 */
export async function runEventStoreContract(
  factory: EventStoreFactory,
  cases: readonly ContractCase[] = eventStoreContract,
): Promise<ContractResult[]> {
  const results: ContractResult[] = [];
  for (const contractCase of cases) {
    try {
      await contractCase.run(await factory());
      results.push({ name: contractCase.name, passed: true });
    } catch (error) {
      results.push({ name: contractCase.name, passed: false, error });
    }
  }
  return results;
}
