import { describe, expect, it } from 'vitest';
import type { EventStore } from '../event-store/event-store.ts';
import { ANY } from '../event-store/expected-version.ts';
import { createInMemoryEventStore } from '../event-store/in-memory-event-store.ts';
import { newKsuid } from '../ids/ksuid.ts';
import {
  type ContractResult,
  eventStoreContract,
  runEventStoreContract,
} from './event-store-contract.ts';

// The contract suite is only worth something if it fails on broken stores: each broken store
// below must be reported by exactly the cases that guard its rule.

/** Appends whatever the expected version says. */
function ignoringExpectedVersions(): EventStore<unknown> {
  const store = createInMemoryEventStore();
  return {
    ...store,
    append: (stream, events, options) =>
      store.append(stream, events, { ...options, expectedVersion: ANY }),
  };
}

/** Returns pages and histories in reverse order. */
function reorderingEvents(): EventStore<unknown> {
  const store = createInMemoryEventStore();
  return {
    ...store,
    readStream: async (stream, options) => [...(await store.readStream(stream, options))].reverse(),
    readAll: async (options) => {
      const page = await store.readAll(options);
      return { ...page, events: [...page.events].reverse() };
    },
  };
}

/** Stores a re-appended event a second time instead of recognising the retry. */
function duplicatingReappends(): EventStore<unknown> {
  const store = createInMemoryEventStore();
  const seen = new Set<string>();
  return {
    ...store,
    async append(stream, events, options) {
      const retry = events.length > 0 && events.every((event) => seen.has(event.id));
      for (const event of events) seen.add(event.id);
      if (!retry) return store.append(stream, events, options);
      const copies = events.map((event) => ({ ...event, id: newKsuid() }));
      return store.append(stream, copies, { ...options, expectedVersion: ANY });
    },
  };
}

const failed = (results: ContractResult[]) => results.filter((r) => !r.passed).map((r) => r.name);

describe('the event store contract suite', () => {
  it('passes every case on the in-memory store', async () => {
    const results = await runEventStoreContract(() => createInMemoryEventStore());
    expect(failed(results)).toEqual([]);
    expect(results).toHaveLength(eventStoreContract.length);
  });

  it('reports a store that ignores expected versions', async () => {
    const failures = failed(await runEventStoreContract(ignoringExpectedVersions));
    expect(failures).toEqual(
      expect.arrayContaining([
        'append: NO_STREAM on a stream with events is a VERSION_CONFLICT with both versions',
        'append: a stale exact expected version is a VERSION_CONFLICT with both versions',
        'append: STREAM_EXISTS appends to a stream with events and conflicts on an empty one',
        'append: concurrent appends expecting the same version, exactly one wins',
        'atomicity: a multi-event append that conflicts stores none of its events',
      ]),
    );
  });

  it('reports a store that re-orders events', async () => {
    const failures = failed(await runEventStoreContract(reorderingEvents));
    expect(failures).toEqual(
      expect.arrayContaining([
        'readStream: version order, from a version, up to a limit',
        'readAll: all streams in one global order, positions increasing',
        'readAll: paging with cursors returns each event exactly once',
      ]),
    );
  });

  it('reports a store that duplicates re-appended events', async () => {
    const failures = failed(await runEventStoreContract(duplicatingReappends));
    expect(failures).toEqual(
      expect.arrayContaining([
        'idempotency: re-appending stored events returns them unchanged and stores nothing new',
        'idempotency: a retry with ANY or NO_STREAM is recognised too',
      ]),
    );
  });
});
