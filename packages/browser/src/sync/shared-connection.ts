import { isStrataError, type StrataError } from '@strata/core';
import { withStorageErrors } from '../database/storage-errors.ts';
import type { StrataDatabase } from '../database/strata-database.ts';
import {
  CONNECTION_KEY,
  type ConnectionState,
  INITIAL_CONNECTION,
  type Rebootstrap,
  type SyncError,
} from './sync-status.ts';

/** A change to the shared connection state; `lastError: undefined` clears the last error. */
export type ConnectionChange = Partial<Omit<ConnectionState, 'lastError' | 'rebootstrap'>> & {
  lastError?: SyncError | undefined;
  rebootstrap?: Rebootstrap | undefined;
};

/** What the syncing tab tells the other tabs about its connection (through IndexedDB). */
export interface SharedConnection {
  /** The state as last shared. */
  current(): ConnectionState;
  /** Merges `change` into the state and writes it, if that changed anything. */
  share(change: ConnectionChange): Promise<void>;
  /** Shares `error` as the last error; never throws (the loops retry whatever happens). */
  fail(error: unknown): Promise<void>;
}

export interface SharedConnectionOptions {
  /** Stores the state where every tab reads it (see `writeConnection`). */
  readonly write: (state: ConnectionState) => Promise<void>;
  /** Stamps errors. */
  readonly clock: () => Date;
  /** Called after each `share` that did not fail, changed or not (e.g. to check `whenSynced`). */
  readonly onShared?: () => void;
}

/**
 * @example
 * const connection = createSharedConnection({ write: writeConnection(db), clock: strata.clock });
 * await connection.share({ connected: true, lastError: undefined });
 */
export function createSharedConnection(options: SharedConnectionOptions): SharedConnection {
  let state: ConnectionState = INITIAL_CONNECTION;
  const share = async (change: ConnectionChange) => {
    // An undefined `lastError` or `rebootstrap` clears it.
    const { lastError, rebootstrap, ...rest } = { ...state, ...change };
    const next: ConnectionState = {
      ...rest,
      // Not caught up while re-bootstrapping: the pending commands are yet to be re-run (and,
      // scoped, a scope may still back-fill beside the stream), whatever a page or stream says.
      ...(rebootstrap === undefined ? {} : { catchUp: { ...rest.catchUp, done: false } }),
      ...(lastError === undefined ? {} : { lastError }),
      ...(rebootstrap === undefined ? {} : { rebootstrap }),
    };
    // Written only when it changed: every write is a transaction other tabs' live queries see.
    if (JSON.stringify(next) !== JSON.stringify(state)) {
      state = next;
      await options.write(state);
    }
    options.onShared?.();
  };
  return {
    current: () => state,
    share,
    async fail(error) {
      const known: StrataError | undefined = isStrataError(error) ? error : undefined;
      const lastError = {
        code: known?.code ?? 'INTERNAL',
        message: error instanceof Error ? error.message : String(error),
        at: options.clock().toISOString(),
      };
      await share({ lastError }).catch(() => undefined);
    },
  };
}

/** Writes the connection state where `liveSyncStatus` reads it. */
export function writeConnection(db: StrataDatabase): (state: ConnectionState) => Promise<void> {
  return async (state) => {
    await withStorageErrors(() => db.syncState.put({ key: CONNECTION_KEY, value: state }));
  };
}
