import type {
  AggregateDefinition,
  AnyAggregateDefinition,
  StateOf,
} from '../aggregates/aggregate-definition.ts';
import { InternalError } from '../errors/errors.ts';
import { safeParseSchema } from '../errors/validation-issues.ts';
import type { EventStore } from '../event-store/event-store.ts';
import type { StreamRef } from '../event-store/stream-ref.ts';

/** An aggregate's state as loaded from a store. */
export interface LoadedAggregate<TState> {
  readonly state: TState;
  /** The version of the last applied event, 0 when the aggregate has no events. */
  readonly version: number;
  /** The version of the valid snapshot loading started from, 0 when none was used. */
  readonly snapshotVersion: number;
  /**
   * The id of the event at `version` (undefined at version 0): with the version it pins the
   * stream's tip, which an append can check (`AppendOptions.expectedLastEventId`).
   */
  readonly lastEventId?: string;
}

/** Options of `loadAggregate`. */
export interface LoadAggregateOptions {
  /** Events read per `readStream` call. Defaults to 1000. */
  readonly batchSize?: number;
}

/**
 * Loads an aggregate: its latest valid snapshot (fingerprint and schema match), then only the
 * events after the snapshot's version, decoded and upcast through the aggregate's registry and
 * folded with `evolve`. Replay only: no projection or reactor runs.
 *
 * @example
 * const { state, version } = await loadAggregate(store, Todo, 'todo-1');
 */
export async function loadAggregate<TAggregate extends AnyAggregateDefinition>(
  store: EventStore<never>,
  aggregate: TAggregate,
  aggregateId: string,
  options: LoadAggregateOptions = {},
): Promise<LoadedAggregate<StateOf<TAggregate>>> {
  const stream: StreamRef = { aggregateType: aggregate.type, aggregateId };
  // The snapshot and the events are two reads: between them another transaction may start the
  // aggregate from a base (a server snapshot adopted with only the events after it), so the
  // events begin past the snapshot read before. Read again once; a gap that stays is a fault.
  try {
    return await loadOnce(store, aggregate, stream, options.batchSize ?? 1000);
  } catch (error) {
    if (!(error instanceof StreamGap)) throw error;
    return loadOnce(store, aggregate, stream, options.batchSize ?? 1000);
  }
}

/** Events that do not follow the starting point: `loadAggregate` reads once more. */
class StreamGap extends InternalError {}

async function loadOnce<TAggregate extends AnyAggregateDefinition>(
  store: EventStore<never>,
  aggregate: TAggregate,
  stream: StreamRef,
  batchSize: number,
): Promise<LoadedAggregate<StateOf<TAggregate>>> {
  let { state, version } = await startingPoint(store, aggregate, stream);
  const snapshotVersion = version;
  let lastEventId: string | undefined;

  // From a snapshot, the snapshot's own event is read too (not applied again): its id pins the tip.
  for (let from = Math.max(1, version); ; ) {
    const page = await store.readStream(stream, { fromVersion: from, limit: batchSize });
    for (const stored of page) {
      if (stored.version === snapshotVersion) {
        lastEventId = stored.id;
        continue;
      }
      if (stored.version !== version + 1) {
        throw new StreamGap(
          `${aggregate.type}/${stream.aggregateId}: the store returned version ${stored.version} after ${version}`,
        );
      }
      state = aggregate.evolve(state, aggregate.events.decode(stored));
      version = stored.version;
      lastEventId = stored.id;
    }
    if (page.length < batchSize) break;
    from = version + 1;
  }
  return {
    state,
    version,
    snapshotVersion,
    ...(lastEventId === undefined ? {} : { lastEventId }),
  };
}

async function startingPoint<TState>(
  store: EventStore<never>,
  aggregate: AggregateDefinition<string, TState>,
  stream: StreamRef,
): Promise<{ state: TState; version: number }> {
  const options = aggregate.snapshots;
  if (options !== undefined) {
    const snapshot = await store.loadSnapshot(stream);
    if (snapshot !== undefined && snapshot.fingerprint === options.fingerprint) {
      const parsed = safeParseSchema(options.schema, snapshot.state);
      if (parsed.success) return { state: parsed.data, version: snapshot.version };
    }
  }
  return { state: aggregate.initialState(), version: 0 };
}
