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
): Promise<Map<string, LoadedAggregate<unknown>>> {
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
  const view = prefetchedView(store, snapshots, firstPages);
  const loaded = await Promise.all(
    entries.map(({ aggregate, aggregateId }) =>
      loadAggregate(view, aggregate, aggregateId, { batchSize: PAGE }),
    ),
  );
  return new Map(
    entries.map((entry, index) => [
      streamKey(streamOf(entry)),
      loaded[index] as LoadedAggregate<unknown>,
    ]),
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
): PostgresEventStore {
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
        return first.events;
      }
      return store.readStream(stream, options);
    },
  };
}
