import {
  type AppendOptions,
  type AppendResult,
  decodePositionCursor,
  type EventStore,
  type ExpectedVersion,
  encodePositionCursor,
  matchesExpectedVersion,
  type NewEvent,
  NO_STREAM,
  planAppend,
  type ReadAllOptions,
  type ReadAllResult,
  type ReadStreamOptions,
  type Snapshot,
  type StoredEvent,
  type StreamRef,
  VersionConflictError,
} from '@strata/core';
import type { DBCoreIndex, DBCoreKeyRange, DBCoreTransaction, Transaction } from 'dexie';
import { withStorageErrors } from '../database/storage-errors.ts';
import type { EventRow, StrataDatabase } from '../database/strata-database.ts';
import type { StrataTransaction } from './strata-transaction.ts';

/** The Dexie event store: the core contract plus what sync needs. */
export interface DexieEventStore extends EventStore<StrataTransaction> {
  readonly db: StrataDatabase;
  append(
    stream: StreamRef,
    events: readonly NewEvent[],
    options: DexieAppendOptions,
  ): Promise<AppendResult>;
  /**
   * Stores events that are already committed upstream (the server's), in one transaction,
   * skipping ids already stored. Returns how many were new.
   */
  importEvents(
    events: readonly (StoredEvent & { readonly serverPosition?: number })[],
  ): Promise<number>;
  /** The version of a stream's last event, 0 when it has none. */
  streamVersion(stream: StreamRef): Promise<number>;
}

/** Options of a Dexie append: the contract's, plus a row it adds with its events. */
export interface DexieAppendOptions extends AppendOptions<StrataTransaction> {
  /**
   * A row added in the append's transaction, sent with the events (the runtime's pending
   * command): whenever `beforeCommit` runs, it was added. A refused add (a unique index) fails
   * the append with `refused`'s error and stores nothing. Not added when the events were
   * already stored.
   */
  readonly alsoAdd?: AlsoAdd;
}

/** A row an append adds with its events (`DexieAppendOptions.alsoAdd`). */
export interface AlsoAdd {
  readonly table: string;
  readonly row: object;
  readonly refused: (cause: unknown) => unknown;
}

/** Options of `createDexieEventStore`. */
export interface DexieEventStoreOptions {
  /** Source of `recordedAt`. Defaults to the system clock. */
  readonly clock?: () => Date;
}

const DEFAULT_PAGE = 1000;
// IndexedDB orders arrays after numbers and strings, and a prefix before its extensions, so
// [type, id] .. [type, id, []] spans exactly one stream's [type, id, version] keys.
const AFTER_ALL: readonly never[] = [];
/** The key range of one stream's events on the `[aggregateType+aggregateId+version]` index. */
export const streamRange = (stream: StreamRef, fromVersion?: number) =>
  [
    fromVersion === undefined
      ? [stream.aggregateType, stream.aggregateId]
      : [stream.aggregateType, stream.aggregateId, fromVersion],
    [stream.aggregateType, stream.aggregateId, AFTER_ALL],
  ] as const;

/**
 * An event store on IndexedDB through Dexie. Each append is one read-write transaction over all
 * tables, so version checks, events, snapshot and projection writes are atomic, also across tabs
 * (IndexedDB serialises overlapping read-write transactions).
 *
 * @example
 * const db = await openStrataDatabase({ name: 'app' });
 * const store = createDexieEventStore(db);
 */
export function createDexieEventStore(
  db: StrataDatabase,
  options: DexieEventStoreOptions = {},
): DexieEventStore {
  const clock = options.clock ?? (() => new Date());
  // Appends touch the log, snapshots, the pending commands and the app's tables (projections and
  // reactors write there); leaving sync state out keeps sync bookkeeping from queueing behind
  // commands.
  const appendScope = () =>
    db.tables.filter((table) => table.name !== 'syncState' && table.name !== 'rejected');

  const streamTip = (stream: StreamRef) =>
    db.events
      .where('[aggregateType+aggregateId+version]')
      .between(...streamRange(stream), true, true)
      .last();
  const eventsCore = db.core.table('events');
  const snapshotsCore = db.core.table('snapshots');
  const streamIndex = eventsCore.schema.indexes.find(
    (index) => index.name === '[aggregateType+aggregateId+version]',
  ) as DBCoreIndex;
  const streamVersion = async (stream: StreamRef) => (await streamTip(stream))?.version ?? 0;

  /** Rows as a local append stores them: pending, at versions from `firstVersion`. */
  const rowsOf = (stream: StreamRef, events: readonly NewEvent[], firstVersion: number) => {
    const recordedAt = clock().toISOString();
    return events.map(
      (event, index): Omit<EventRow, 'position'> => ({
        id: event.id,
        type: event.type,
        schemaVersion: event.schemaVersion,
        aggregateType: stream.aggregateType,
        aggregateId: stream.aggregateId,
        version: firstVersion + index,
        occurredAt: event.occurredAt,
        data: event.data,
        metadata: event.metadata,
        recordedAt,
        pending: 1,
      }),
    );
  };
  const transactionOf = (dexie: Transaction): StrataTransaction => ({
    dexie,
    table: (name) => db.table(name),
  });

  /**
   * The append a command makes (an exact expected version), in one round trip to IndexedDB: the
   * tip read, the adds and the snapshot go out together, and the unique indexes stand in for the
   * reads that would find the events' ids or the next version already stored. An add one of them
   * refuses sends the append to `plannedAppend`, which tells a retry from a conflict.
   */
  function fastAppend(
    stream: StreamRef,
    events: readonly NewEvent[],
    appendOptions: DexieAppendOptions,
    firstVersion: number,
  ): Promise<AppendResult> {
    return db.transaction('rw', appendScope(), async (dexie) => {
      const trans = dexie.idbtrans as unknown as DBCoreTransaction;
      const rows = rowsOf(stream, events, firstVersion);
      // Requests run in the order they were made: the tip is read before the adds land. Dexie's
      // core (not its tables) keeps this order and still tells live queries what changed.
      const [lower, upper] = streamRange(stream);
      const tip = eventsCore.query({
        trans,
        values: true,
        limit: 1,
        direction: 'prev',
        query: {
          index: streamIndex,
          range: { type: RANGE, lower, upper, lowerOpen: false, upperOpen: false },
        },
      });
      const added = eventsCore.mutate({ type: 'add', trans, values: rows });
      const snapshot =
        appendOptions.snapshot === undefined
          ? undefined
          : snapshotsCore.mutate({ type: 'put', trans, values: [appendOptions.snapshot] });
      const { alsoAdd } = appendOptions;
      const also =
        alsoAdd === undefined
          ? undefined
          : db.core.table(alsoAdd.table).mutate({ type: 'add', trans, values: [alsoAdd.row] });
      const [{ result }, { numFailures, results }, , alsoAdded] = await Promise.all([
        tip,
        added,
        snapshot,
        also,
      ]);
      if (numFailures > 0) throw REPLAN;
      const last = result[0] as EventRow | undefined;
      const { expectedVersion, expectedLastEventId } = appendOptions;
      // Same version, other events: a sync rebase replaced what the caller decided on.
      if (
        !matchesExpectedVersion(expectedVersion, last?.version ?? 0) ||
        (expectedLastEventId !== undefined && last?.id !== expectedLastEventId)
      ) {
        throw new VersionConflictError(stream, expectedVersion, last?.version ?? 0);
      }
      if (alsoAdd !== undefined && alsoAdded !== undefined && alsoAdded.numFailures > 0) {
        throw alsoAdd.refused(alsoAdded.failures[0]);
      }
      const stored = rows.map((row, index) =>
        toStoredEvent({ ...row, position: results?.[index] as number }),
      );
      await appendOptions.beforeCommit?.(stored, transactionOf(dexie));
      commitNow(dexie);
      return { events: stored, version: firstVersion + events.length - 1, alreadyStored: false };
    });
  }

  /** Any append: reads the tip and the events' ids first, then plans (`planAppend`). */
  function plannedAppend(
    stream: StreamRef,
    events: readonly NewEvent[],
    appendOptions: DexieAppendOptions,
  ): Promise<AppendResult> {
    return db.transaction('rw', appendScope(), async (dexie) => {
      // Both reads go out at once: IndexedDB serves them in one round of the event loop.
      const [tip, found] = await Promise.all([
        streamTip(stream),
        db.events
          .where('id')
          .anyOf(events.map((event) => event.id))
          .toArray(),
      ]);
      const currentVersion = tip?.version ?? 0;
      const byId = new Map(found.map((row) => [row.id, row]));
      const plan = planAppend({
        stream,
        events,
        expectedVersion: appendOptions.expectedVersion,
        currentVersion,
        findStored: (id) => byId.get(id),
      });
      if (plan.kind === 'already-stored') {
        const stored = plan.events.map((row) => toStoredEvent(row as EventRow));
        return { events: stored, version: currentVersion, alreadyStored: true };
      }

      // Same version, other events: a sync rebase replaced what the caller decided on.
      const { expectedLastEventId } = appendOptions;
      if (expectedLastEventId !== undefined && tip?.id !== expectedLastEventId) {
        throw new VersionConflictError(stream, appendOptions.expectedVersion, currentVersion);
      }
      const rows = rowsOf(stream, events, plan.firstVersion);
      const positions = await db.events.bulkAdd(rows as EventRow[], { allKeys: true });
      const stored = rows.map((row, index) =>
        toStoredEvent({ ...row, position: positions[index] as number }),
      );
      if (appendOptions.snapshot !== undefined) await db.snapshots.put(appendOptions.snapshot);
      const { alsoAdd } = appendOptions;
      if (alsoAdd !== undefined) {
        const trans = dexie.idbtrans as unknown as DBCoreTransaction;
        const also = db.core.table(alsoAdd.table);
        const { numFailures, failures } = await also.mutate({
          type: 'add',
          trans,
          values: [alsoAdd.row],
        });
        if (numFailures > 0) throw alsoAdd.refused(failures[0]);
      }
      await appendOptions.beforeCommit?.(stored, transactionOf(dexie));
      return {
        events: stored,
        version: plan.firstVersion + events.length - 1,
        alreadyStored: false,
      };
    });
  }

  async function append(
    stream: StreamRef,
    events: readonly NewEvent[],
    appendOptions: DexieAppendOptions,
  ): Promise<AppendResult> {
    const firstVersion = knownFirstVersion(appendOptions.expectedVersion);
    if (firstVersion !== undefined && events.length > 0) {
      try {
        return await withStorageErrors(() =>
          fastAppend(stream, events, appendOptions, firstVersion),
        );
      } catch (error) {
        if (error !== REPLAN) throw error;
      }
    }
    return withStorageErrors(() => plannedAppend(stream, events, appendOptions));
  }

  async function readStream(stream: StreamRef, readOptions: ReadStreamOptions = {}) {
    return withStorageErrors(async () => {
      const from = Math.max(1, readOptions.fromVersion ?? 1);
      let query = db.events
        .where('[aggregateType+aggregateId+version]')
        .between(...streamRange(stream, from), true, true);
      if (readOptions.limit !== undefined) query = query.limit(readOptions.limit);
      return (await query.toArray()).map(toStoredEvent);
    });
  }

  async function readAll(readOptions: ReadAllOptions = {}): Promise<ReadAllResult> {
    const after = decodePositionCursor(readOptions.after);
    const limit = readOptions.limit ?? DEFAULT_PAGE;
    return withStorageErrors(async () => {
      // One extra row tells whether more are waiting without a second query.
      const rows = await db.events
        .where('position')
        .above(after)
        .limit(limit + 1)
        .toArray();
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        events: page.map(toStoredEvent),
        cursor: encodePositionCursor(last?.position ?? after),
        hasMore: rows.length > limit,
      };
    });
  }

  async function importEvents(
    events: readonly (StoredEvent & { readonly serverPosition?: number })[],
  ) {
    if (events.length === 0) return 0;
    return withStorageErrors(() =>
      db.transaction('rw', db.events, async () => {
        const ids = events.map((event) => event.id);
        const known = new Set(await db.events.where('id').anyOf(ids).keys());
        const rows = events
          .filter((event) => !known.has(event.id))
          .map(
            ({ position, ...event }): Omit<EventRow, 'position'> => ({
              ...event,
              pending: 0,
              serverPosition: event.serverPosition ?? position,
            }),
          );
        await db.events.bulkAdd(rows as EventRow[]);
        return rows.length;
      }),
    );
  }

  return {
    db,
    append,
    readStream,
    readAll,
    importEvents,
    streamVersion: (stream) => withStorageErrors(() => streamVersion(stream)),
    saveSnapshot: (snapshot: Snapshot) =>
      withStorageErrors(async () => void (await db.snapshots.put(snapshot))),
    // The later of the local snapshot and the base (server snapshot the aggregate started
    // from): below a base the log may have no events to replay.
    loadSnapshot: (stream) =>
      withStorageErrors(async () => {
        const key: [string, string] = [stream.aggregateType, stream.aggregateId];
        const [local, base] = await Promise.all([db.snapshots.get(key), db.bases.get(key)]);
        return base !== undefined && (local === undefined || local.version < base.version)
          ? base
          : local;
      }),
  };
}

/** Thrown inside a fast append an index refused: its transaction aborts, and nothing was stored. */
const REPLAN = Symbol('replan');
/** `DBCoreRangeType.Range`, a const enum that isolated modules cannot import. */
const RANGE = 2 as DBCoreKeyRange['type'];

/** The version a command's append starts at, when its expected version says it. */
function knownFirstVersion(expected: ExpectedVersion): number | undefined {
  if (expected === NO_STREAM) return 1;
  return typeof expected === 'number' && Number.isInteger(expected) && expected >= 1
    ? expected + 1
    : undefined;
}

/**
 * Asks IndexedDB to commit once the requests made so far are done, instead of after a turn of
 * the event loop finds none pending: one round trip less per append.
 */
function commitNow(dexie: Transaction): void {
  const idb = dexie.idbtrans as IDBTransaction & { commit?: () => void };
  idb.commit?.();
}

/** The event as the contract defines it, without the row's sync bookkeeping. */
export function toStoredEvent(row: EventRow): StoredEvent {
  const { pending: _pending, serverPosition: _serverPosition, ...event } = row;
  return event;
}
