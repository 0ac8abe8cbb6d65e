import type { NewEvent, StoredEvent } from '../events/event.ts';
import type { Snapshot } from '../snapshots/snapshot.ts';
import type { ExpectedVersion } from './expected-version.ts';
import type { StreamRef } from './stream-ref.ts';

/** Options of `EventStore.append`. */
export interface AppendOptions<TTransaction> {
  readonly expectedVersion: ExpectedVersion;
  /**
   * The id the stream's last event must have (`VERSION_CONFLICT` otherwise). Only a store whose
   * stored events can be replaced needs to check it: the browser's, where a sync rebase rewrites
   * pending events and may leave the version as it was. Elsewhere events never change, so the
   * version alone pins the tip and stores may ignore it.
   */
  readonly expectedLastEventId?: string;
  /** A snapshot to save in the same transaction, so it never outlives or precedes its events. */
  readonly snapshot?: Snapshot;
  /**
   * Runs inside the append's transaction, after the events got their versions and positions and
   * before they commit. Inline projections write through `transaction`; throwing aborts the
   * append (nothing is stored) and the error reaches the caller unchanged. Not called when the
   * append only confirms events that were already stored.
   */
  readonly beforeCommit?: (
    events: readonly StoredEvent[],
    transaction: TTransaction,
  ) => void | Promise<void>;
}

/** What an append stored (or found already stored). */
export interface AppendResult {
  readonly events: readonly StoredEvent[];
  /** The stream's version after the append: the version of its last event. */
  readonly version: number;
  /** True when every event was already stored at this place: a retried append. */
  readonly alreadyStored: boolean;
}

/** Options of `EventStore.readStream`: the seeds' `EventsHistory`. */
export interface ReadStreamOptions {
  /** First version to return. Defaults to 1. */
  readonly fromVersion?: number;
  /** Most events to return. Defaults to all. */
  readonly limit?: number;
}

/** Options of `EventStore.readAll`. */
export interface ReadAllOptions {
  /** A cursor from an earlier `readAll`; absent to start at the beginning. */
  readonly after?: string;
  /** Most events to return. Defaults to 1000. */
  readonly limit?: number;
}

/** A page of the global order. */
export interface ReadAllResult {
  readonly events: readonly StoredEvent[];
  /** Pass as `after` to continue; equals the given cursor when nothing was read. */
  readonly cursor: string;
  /** True when more events were waiting beyond this page at the time of the read. */
  readonly hasMore: boolean;
}

/**
 * The event store contract every backend implements: in-memory (core), Dexie (browser),
 * Postgres and PGlite (edge server). `@strata/core/testing` runs one contract suite against each.
 * Data is stored as given (JSON); typing and upcasting happen above, in the aggregate's registry.
 *
 * @example
 * const store = createInMemoryEventStore();
 * await store.append({ aggregateType: 'Todo', aggregateId: 't1' }, [event], { expectedVersion: NO_STREAM });
 * const history = await store.readStream({ aggregateType: 'Todo', aggregateId: 't1' });
 */
export interface EventStore<TTransaction = unknown> {
  /**
   * Appends events to one stream, all or nothing, giving them versions after the stream's last.
   * Throws `VERSION_CONFLICT` (with both versions) when `expectedVersion` does not hold,
   * `NO_EVENTS` for an empty list and `DUPLICATE_EVENT_ID` when an id is stored elsewhere.
   * Appending events whose ids are all stored, contiguously and in order, at the place the
   * expected version names returns them unchanged (`alreadyStored`): retries are safe.
   */
  append(
    stream: StreamRef,
    events: readonly NewEvent[],
    options: AppendOptions<TTransaction>,
  ): Promise<AppendResult>;
  /** One stream's events in version order, from a version, up to a limit. */
  readStream(stream: StreamRef, options?: ReadStreamOptions): Promise<readonly StoredEvent[]>;
  /** Every stream's events in global order, after a cursor. Throws `INVALID_CURSOR` on junk. */
  readAll(options?: ReadAllOptions): Promise<ReadAllResult>;
  /** Saves the stream's snapshot, replacing the one it had. */
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  /** The stream's snapshot, if any. Validity (fingerprint, schema) is the loader's business. */
  loadSnapshot(stream: StreamRef): Promise<Snapshot | undefined>;
}
