import { type Snapshot, StorageFailedError, type StoredEvent } from '@strata/core';
import { Dexie, type Table } from 'dexie';
import { toStorageError } from './storage-errors.ts';

/** A stored event row: the event plus where it stands in sync. */
export interface EventRow extends StoredEvent {
  /**
   * 1 for an event appended here, 0 for one the server sent. An event appended here is pending
   * while a pending command row lists it: the server's acknowledgement deletes the command row
   * and leaves this row as it is (issue 16), so a `pending: 1` row no command lists is confirmed
   * (`pendingIdsAmong` in sync/pending-commands.ts tells them apart).
   */
  readonly pending: 0 | 1;
  /**
   * The server's position, on events the server sent; not on this device's own events the
   * server acknowledged (their rows are not rewritten).
   */
  readonly serverPosition?: number;
}

/** A pending command: executed locally, not yet acknowledged by a server, in execution order. */
export interface PendingCommandRow {
  readonly seq?: number;
  readonly commandId: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly command: string;
  readonly input: unknown;
  /**
   * The version of the command's input schema `input` is in (`defineCommandInput`, issue 17),
   * kept past 1 only: rows without one (also every row from before input versions) are version
   * 1. After an app update `startSync` upgrades older rows once (migrate-pending-commands.ts).
   */
  readonly inputVersion?: number;
  readonly metadata: Record<string, unknown>;
  readonly eventIds: readonly string[];
  readonly executedAt: string;
}

/** A command that could not be re-applied after a conflict, kept for the app to show. */
export interface RejectedCommandRow extends PendingCommandRow {
  readonly code: string;
  readonly reason: string;
  readonly rejectedAt: string;
}

/**
 * One held scope holding one aggregate (scoped sync): an aggregate stays on the device while
 * any held scope holds it, and is dropped when none does.
 */
export interface ScopeMemberRow {
  readonly scope: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
}

/**
 * An event this app version cannot read (issue 17): its type or schema version is newer than the
 * app's event definitions (a newer app version wrote it), or its data does not match them. The
 * event's row stays in `events` (the log is whole, versions stay right); this row says why it is
 * not applied, and holds its aggregate at the version before it (see `AggregateHeldError`).
 * Deleted once an app version that reads it has applied it.
 */
export interface UnreadableEventRow {
  /** The event's id (its row in `events` has the same). */
  readonly id: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly version: number;
  readonly type: string;
  readonly schemaVersion: number;
  /**
   * Why it could not be read: `UNKNOWN_EVENT_TYPE` (its type, its schema version or its
   * aggregate type is unknown to this app version) or `VALIDATION_FAILED` (its data does not
   * match its schema).
   */
  readonly code: string;
  /** The decoding error's message. */
  readonly reason: string;
  /** The server's position of the event. */
  readonly serverPosition?: number;
  /** When this device kept it. */
  readonly keptAt: string;
}

/** Key/value sync state: client id, cursor. */
export interface SyncStateRow {
  readonly key: string;
  readonly value: unknown;
}

/** The Dexie database strata keeps: its own tables plus the app's projection tables. */
export type StrataDatabase = Dexie & {
  events: Table<EventRow, number>;
  snapshots: Table<Snapshot, [string, string]>;
  /**
   * Server snapshots an aggregate was started from (scoped sync's snapshot bootstrap): the
   * aggregate's events before a base's version may be missing here.
   */
  bases: Table<Snapshot, [string, string]>;
  commands: Table<PendingCommandRow, number>;
  rejected: Table<RejectedCommandRow, number>;
  syncState: Table<SyncStateRow, string>;
  scopeMembers: Table<ScopeMemberRow, [string, string, string]>;
  /** Events this app version cannot read, by event id (issue 17). */
  unreadable: Table<UnreadableEventRow, string>;
};

/** Versions of strata's own tables. Bump with a new entry; never edit a released one. */
const STRATA_SCHEMAS: readonly Record<string, string>[] = [
  {
    events: '++position, &id, &[aggregateType+aggregateId+version], pending',
    snapshots: '&[aggregateType+aggregateId]',
    commands: '++seq, &commandId, [aggregateType+aggregateId]',
    rejected: '++seq, commandId',
    syncState: '&key',
  },
  {
    // v2 (sync): pending commands are found by event id when the server confirms events.
    events: '++position, &id, &[aggregateType+aggregateId+version], pending',
    snapshots: '&[aggregateType+aggregateId]',
    commands: '++seq, &commandId, [aggregateType+aggregateId], *eventIds',
    rejected: '++seq, commandId',
    syncState: '&key',
  },
  {
    // v3 (scoped sync): which held scope holds which aggregate; per-scope cursors live in
    // syncState (`scope:<key>` rows).
    events: '++position, &id, &[aggregateType+aggregateId+version], pending',
    snapshots: '&[aggregateType+aggregateId]',
    commands: '++seq, &commandId, [aggregateType+aggregateId], *eventIds',
    rejected: '++seq, commandId',
    syncState: '&key',
    scopeMembers: '&[scope+aggregateType+aggregateId], [aggregateType+aggregateId], scope',
  },
  {
    // v4 (snapshot bootstrap): server snapshots an aggregate started from, kept apart from the
    // local snapshots a rebase may discard, since no events before them are stored here.
    events: '++position, &id, &[aggregateType+aggregateId+version], pending',
    snapshots: '&[aggregateType+aggregateId]',
    bases: '&[aggregateType+aggregateId]',
    commands: '++seq, &commandId, [aggregateType+aggregateId], *eventIds',
    rejected: '++seq, commandId',
    syncState: '&key',
    scopeMembers: '&[scope+aggregateType+aggregateId], [aggregateType+aggregateId], scope',
  },
  {
    // v5 (issue 16): the events' `pending` index goes. Nothing queries by it (pending events are
    // found through the pending commands' event ids), and every event write paid for it.
    events: '++position, &id, &[aggregateType+aggregateId+version]',
    snapshots: '&[aggregateType+aggregateId]',
    bases: '&[aggregateType+aggregateId]',
    commands: '++seq, &commandId, [aggregateType+aggregateId], *eventIds',
    rejected: '++seq, commandId',
    syncState: '&key',
    scopeMembers: '&[scope+aggregateType+aggregateId], [aggregateType+aggregateId], scope',
  },
  {
    // v6 (issue 17): events this app version could not read, kept unapplied; by aggregate and
    // version, since the first one of an aggregate holds it there.
    events: '++position, &id, &[aggregateType+aggregateId+version]',
    snapshots: '&[aggregateType+aggregateId]',
    bases: '&[aggregateType+aggregateId]',
    commands: '++seq, &commandId, [aggregateType+aggregateId], *eventIds',
    rejected: '++seq, commandId',
    syncState: '&key',
    scopeMembers: '&[scope+aggregateType+aggregateId], [aggregateType+aggregateId], scope',
    unreadable: '&id, [aggregateType+aggregateId+version]',
  },
];

/** Room left for app schema versions under each strata schema version. */
const APP_VERSIONS_PER_STRATA_VERSION = 1000;

/** Options of `openStrataDatabase`. */
export interface StrataDatabaseOptions {
  /** The IndexedDB database name; one per app and user. */
  readonly name: string;
  /** Projection tables in Dexie's schema syntax, e.g. `{ todos: 'id, status' }`. */
  readonly tables?: Readonly<Record<string, string>>;
  /**
   * Version of the app's tables: bump it when `tables` change. `upgrade` runs once when a
   * database at an older app version opens (e.g. to fill a new index).
   */
  readonly tablesVersion?: number;
  readonly upgrade?: (transaction: import('dexie').Transaction) => void | Promise<void>;
  /** IndexedDB implementation; defaults to the global one (fake-indexeddb in Node tests). */
  readonly indexedDB?: IDBFactory;
  readonly IDBKeyRange?: typeof IDBKeyRange;
  /** How long to wait for other tabs to let an upgrade through. Defaults to 3000 ms. */
  readonly blockedTimeoutMs?: number;
}

/**
 * Opens (creating or upgrading) the database. Failures are typed: `STORAGE_FAILED` with reason
 * `UNAVAILABLE` (no IndexedDB, private mode) or `UPGRADE_BLOCKED` (another tab holds an old
 * version open and does not let go).
 *
 * @example
 * const db = await openStrataDatabase({ name: 'todos', tables: { todos: 'id, status' } });
 */
export async function openStrataDatabase(options: StrataDatabaseOptions): Promise<StrataDatabase> {
  const indexedDB = options.indexedDB ?? globalThis.indexedDB;
  if (indexedDB === undefined) {
    throw new StorageFailedError('IndexedDB is not available in this environment', {
      reason: 'UNAVAILABLE',
    });
  }
  const db = new Dexie(options.name, {
    indexedDB,
    IDBKeyRange: options.IDBKeyRange ?? globalThis.IDBKeyRange,
  }) as StrataDatabase;
  const appVersion = options.tablesVersion ?? 1;
  if (
    !Number.isInteger(appVersion) ||
    appVersion < 1 ||
    appVersion >= APP_VERSIONS_PER_STRATA_VERSION
  ) {
    throw new RangeError(`tablesVersion must be an integer from 1 to 999, got ${appVersion}`);
  }
  for (const name of Object.keys(options.tables ?? {})) {
    if (name in (STRATA_SCHEMAS.at(-1) ?? {})) {
      throw new TypeError(`The table name "${name}" is reserved by strata`);
    }
  }
  STRATA_SCHEMAS.forEach((schema, index) => {
    const isLatest = index === STRATA_SCHEMAS.length - 1;
    const version = (index + 1) * APP_VERSIONS_PER_STRATA_VERSION + (isLatest ? appVersion : 0);
    // The app's tables are declared at every strata version: a database upgraded across
    // several (an app at 4001 opened by one at 6001) goes through the versions between, and a
    // version without them would delete the tables, rows and all, for the next to recreate empty.
    const stores = { ...schema, ...options.tables };
    const declared = db.version(version).stores(stores);
    if (isLatest && options.upgrade !== undefined) declared.upgrade(options.upgrade);
  });

  return new Promise<StrataDatabase>((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      db.close();
      reject(toStorageError(error));
    };
    db.on('blocked', () => {
      // Another tab has the database open at an older version and has not closed it. Dexie
      // would wait forever; the app gets a typed error and can ask the user to close tabs.
      setTimeout(
        () =>
          fail(
            new StorageFailedError('The database upgrade is blocked by another open tab', {
              reason: 'UPGRADE_BLOCKED',
            }),
          ),
        options.blockedTimeoutMs ?? 3000,
      );
    });
    db.open().then(
      () => {
        if (settled) return;
        settled = true;
        resolve(db);
      },
      (error: unknown) => fail(error),
    );
  });
}
