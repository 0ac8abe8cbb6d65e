import { ValidationFailedError } from '../errors/errors.ts';
import type { NewEvent, StoredEvent } from '../events/event.ts';
import type { Snapshot } from '../snapshots/snapshot.ts';
import { planAppend } from './append-plan.ts';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  ReadAllOptions,
  ReadAllResult,
  ReadStreamOptions,
} from './event-store.ts';
import { decodePositionCursor, encodePositionCursor } from './position-cursor.ts';
import { type StreamRef, streamKey } from './stream-ref.ts';

/** Staged writes to the in-memory store's read models, committed with the append. */
export interface InMemoryTransaction {
  readModel<TValue>(name: string): ReadModelWriter<TValue>;
}

/** One read model inside a transaction: reads see the transaction's own writes. */
export interface ReadModelWriter<TValue> {
  get(key: string): TValue | undefined;
  put(key: string, value: TValue): void;
  delete(key: string): void;
}

/** An event store held in memory: for tests, examples, scripts and server-side caches. */
export interface InMemoryEventStore extends EventStore<InMemoryTransaction> {
  /** A committed read model, as inline projections left it. */
  readModel<TValue>(name: string): ReadonlyMap<string, TValue>;
}

/** Options of `createInMemoryEventStore`. */
export interface InMemoryEventStoreOptions {
  /** Source of `recordedAt`. Defaults to the system clock. */
  readonly clock?: () => Date;
}

const DEFAULT_PAGE = 1000;
const DELETED = Symbol('deleted');

/**
 * Creates an event store that lives in memory and passes the core contract suite.
 *
 * @example
 * const store = createInMemoryEventStore();
 * const app = createCommandHandler({ store });
 */
export function createInMemoryEventStore(
  options: InMemoryEventStoreOptions = {},
): InMemoryEventStore {
  const clock = options.clock ?? (() => new Date());
  const log: StoredEvent[] = [];
  const streams = new Map<string, StoredEvent[]>();
  const byId = new Map<string, StoredEvent>();
  const snapshots = new Map<string, Snapshot>();
  const readModels = new Map<string, Map<string, unknown>>();
  // Appends may await `beforeCommit`; running them one at a time keeps version checks valid.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work);
    queue = result.catch(() => undefined);
    return result;
  };

  const committedModel = (name: string): Map<string, unknown> => {
    let model = readModels.get(name);
    if (model === undefined) {
      model = new Map();
      readModels.set(name, model);
    }
    return model;
  };

  async function append(
    stream: StreamRef,
    events: readonly NewEvent[],
    appendOptions: AppendOptions<InMemoryTransaction>,
  ): Promise<AppendResult> {
    return exclusive(async () => {
      const history = streams.get(streamKey(stream)) ?? [];
      const plan = planAppend({
        stream,
        events,
        expectedVersion: appendOptions.expectedVersion,
        currentVersion: history.length,
        findStored: (id) => byId.get(id),
      });
      if (plan.kind === 'already-stored') {
        const last = plan.events[plan.events.length - 1] as StoredEvent;
        return { events: plan.events, version: last.version, alreadyStored: true };
      }

      const recordedAt = clock().toISOString();
      const stored = events.map((event, index) =>
        storedEvent(stream, event, plan.firstVersion + index, log.length + 1 + index, recordedAt),
      );
      const staged = new Map<string, Map<string, unknown>>();
      if (appendOptions.beforeCommit !== undefined) {
        await appendOptions.beforeCommit(stored, stagedTransaction(staged, committedModel));
      }

      log.push(...stored);
      // Appends run one at a time and reads copy, so extending the history in place is safe.
      if (history.length === 0) streams.set(streamKey(stream), history);
      history.push(...stored);
      for (const event of stored) byId.set(event.id, event);
      if (appendOptions.snapshot !== undefined) saveSnapshot(appendOptions.snapshot);
      for (const [name, writes] of staged) {
        const model = committedModel(name);
        for (const [key, value] of writes) {
          if (value === DELETED) model.delete(key);
          else model.set(key, value);
        }
      }
      return { events: stored, version: history.length, alreadyStored: false };
    });
  }

  function saveSnapshot(snapshot: Snapshot): void {
    snapshots.set(streamKey(snapshot), deepFreeze(structuredClone(snapshot)));
  }

  async function readStream(
    stream: StreamRef,
    readOptions: ReadStreamOptions = {},
  ): Promise<readonly StoredEvent[]> {
    const fromVersion = readOptions.fromVersion ?? 1;
    const history = streams.get(streamKey(stream)) ?? [];
    const start = Math.max(0, fromVersion - 1);
    const end = readOptions.limit === undefined ? undefined : start + readOptions.limit;
    return history.slice(start, end);
  }

  async function readAll(readOptions: ReadAllOptions = {}): Promise<ReadAllResult> {
    const afterPosition = decodePositionCursor(readOptions.after);
    const limit = readOptions.limit ?? DEFAULT_PAGE;
    const events = log.slice(afterPosition, afterPosition + limit);
    const last = events[events.length - 1];
    return {
      events,
      cursor:
        last === undefined
          ? encodePositionCursor(afterPosition)
          : encodePositionCursor(last.position),
      hasMore: afterPosition + events.length < log.length,
    };
  }

  return {
    append,
    readStream,
    readAll,
    saveSnapshot: async (snapshot) => saveSnapshot(snapshot),
    async loadSnapshot(stream) {
      return snapshots.get(streamKey(stream));
    },
    readModel: <TValue>(name: string) => committedModel(name) as ReadonlyMap<string, TValue>,
  };
}

function storedEvent(
  stream: StreamRef,
  event: NewEvent,
  version: number,
  position: number,
  recordedAt: string,
): StoredEvent {
  // Copy so that callers mutating their objects after the append cannot change history.
  return deepFreeze({
    id: event.id,
    type: event.type,
    schemaVersion: event.schemaVersion,
    aggregateType: stream.aggregateType,
    aggregateId: stream.aggregateId,
    version,
    occurredAt: event.occurredAt,
    data: cloneJson(event.data),
    metadata: cloneJson(event.metadata),
    position,
    recordedAt,
  });
}

function cloneJson<T>(value: T): T {
  try {
    return structuredClone(value);
  } catch (error) {
    throw new ValidationFailedError('Event data and metadata must be JSON values', [], {
      cause: error,
    });
  }
}

function stagedTransaction(
  staged: Map<string, Map<string, unknown>>,
  committedModel: (name: string) => Map<string, unknown>,
): InMemoryTransaction {
  return {
    readModel<TValue>(name: string): ReadModelWriter<TValue> {
      let writes = staged.get(name);
      if (writes === undefined) {
        writes = new Map();
        staged.set(name, writes);
      }
      const pending = writes;
      return {
        get(key) {
          if (pending.has(key)) {
            const value = pending.get(key);
            return value === DELETED ? undefined : (value as TValue);
          }
          return committedModel(name).get(key) as TValue | undefined;
        },
        put: (key, value) => void pending.set(key, cloneJson(value)),
        delete: (key) => void pending.set(key, DELETED),
      };
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
