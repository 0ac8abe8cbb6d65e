// The aggregates of a push's commands loaded in two statements whatever their number: their
// snapshots in one, then each one's events after its snapshot in another. The folding is core's
// own `loadAggregate` (snapshot validity, decode, upcast, evolve), run against a view of the
// store that answers its first reads from what was fetched; any other read (a snapshot that
// does not fit, a history longer than a page) goes to the store as usual.
import {
  type AnyAggregateDefinition,
  type LoadedAggregate,
  loadAggregate,
  type Snapshot,
  type StreamRef,
  streamKey,
} from '@strata/core';
import type { PostgresEventStore } from '../postgres/postgres-event-store.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';

/** Events read per stream and page, as the command handler reads them. */
const PAGE = 1000;

/** A loaded aggregate and when its last event happened (undefined at version 0). */
export interface LoadedWithTip extends LoadedAggregate<unknown> {
  /** The `occurredAt` of the event at `version` (verify checks a prediction's time against it). */
  readonly tipOccurredAt?: string;
}

/** One aggregate to load. */
export interface AggregateToLoad {
  readonly aggregate: AnyAggregateDefinition;
  readonly aggregateId: string;
}

/**
 * Loads each aggregate once (by stream key), as `loadAggregate` would: the same states, with
 * two statements for all of them on the common path.
 *
 * @example
 * const loaded = await loadAggregates(store, [{ aggregate: Cart, aggregateId: 'c1' }]);
 */
export async function loadAggregates(
  store: PostgresEventStore,
  wanted: readonly AggregateToLoad[],
): Promise<Map<string, LoadedWithTip>> {
  const byKey = new Map<string, AggregateToLoad>();
  for (const entry of wanted) {
    byKey.set(streamKey(streamOf(entry)), entry);
  }
  const entries = [...byKey.values()];
  const snapshots = await store.loadSnapshots(
    entries.filter(({ aggregate }) => aggregate.snapshots !== undefined).map(streamOf),
  );
  // From a snapshot, loadAggregate reads from the snapshot's own version (its id pins the tip).
  const reads = entries.map((entry) => ({
    ...streamOf(entry),
    fromVersion: Math.max(1, snapshots.get(streamKey(streamOf(entry)))?.version ?? 1),
  }));
  const pages = await store.readStreams(reads, PAGE);
  const firstPages = new Map(
    reads.map((read, index) => [streamKey(read), { read, events: pages[index] ?? [] }]),
  );
  // The last event each stream's reads returned: loadAggregate reads to the end, so its tip.
  const lastRead = new Map<string, PostgresStoredEvent>();
  const view = prefetchedView(store, snapshots, firstPages, lastRead);
  const loaded = await Promise.all(
    entries.map(({ aggregate, aggregateId }) =>
      loadAggregate(view, aggregate, aggregateId, { batchSize: PAGE }),
    ),
  );
  return new Map(
    entries.map((entry, index) => {
      const key = streamKey(streamOf(entry));
      const state = loaded[index] as LoadedAggregate<unknown>;
      const tip = lastRead.get(key);
      return [
        key,
        tip !== undefined && tip.version === state.version
          ? { ...state, tipOccurredAt: tip.occurredAt }
          : state,
      ];
    }),
  );
}

const streamOf = ({ aggregate, aggregateId }: AggregateToLoad): StreamRef => ({
  aggregateType: aggregate.type,
  aggregateId,
});

/** The store, answering each stream's snapshot and first page from what was fetched, once. */
function prefetchedView(
  store: PostgresEventStore,
  snapshots: ReadonlyMap<string, Snapshot>,
  firstPages: Map<string, { read: { fromVersion: number }; events: PostgresStoredEvent[] }>,
  lastRead: Map<string, PostgresStoredEvent>,
): PostgresEventStore {
  const noted = (key: string, events: PostgresStoredEvent[]) => {
    const last = events.at(-1);
    if (last !== undefined) lastRead.set(key, last);
    return events;
  };
  return {
    ...store,
    loadSnapshot: async (stream) => snapshots.get(streamKey(stream)),
    readStream: async (stream, options) => {
      const key = streamKey(stream);
      const first = firstPages.get(key);
      if (
        first !== undefined &&
        options?.fromVersion === first.read.fromVersion &&
        options.limit === PAGE
      ) {
        firstPages.delete(key);
        return noted(key, first.events);
      }
      return noted(key, (await store.readStream(stream, options)) as PostgresStoredEvent[]);
    },
  };
}
