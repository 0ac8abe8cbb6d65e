import { liveQuery } from 'dexie';
import type { StrataDatabase } from '../database/strata-database.ts';
import type { LiveSubscribable } from '../runtime/live-state.ts';
import { LAST_SYNCED_AT_KEY } from './apply-upstream.ts';
import { readScopeStates, type ScopesStatus, scopesStatus } from './scope-set.ts';
import { readUnreadableStatus, type UnreadableStatus } from './unreadable-events.ts';

/** The sync state key of what the syncing tab shares about its connection. */
export const CONNECTION_KEY = 'connection';

/** Progress of catching up with the server's events. */
export interface CatchUpProgress {
  /** Events received since this tab started syncing. */
  readonly received: number;
  /** Events the catch-up will bring, when the server told (it does not always). */
  readonly total?: number;
  /** True once the client has seen the server's latest events. */
  readonly done: boolean;
}

/** Why and since when the device is re-bootstrapping (`SyncStatus.rebootstrap`). */
export interface Rebootstrap {
  /** What was found, e.g. "the server's log id changed". */
  readonly reason: string;
  readonly since: string;
}

/** A failure the sync client is retrying past. */
export interface SyncError {
  readonly code: string;
  readonly message: string;
  readonly at: string;
}

/** What the syncing tab shares with the others through IndexedDB. */
export interface ConnectionState {
  /** A live subscription to the server is open. */
  readonly connected: boolean;
  readonly catchUp: CatchUpProgress;
  /** The last failure; cleared by the next success. */
  readonly lastError?: SyncError;
  /**
   * Present while the device re-bootstraps (issue 17): the server's log is not the one it read
   * (its database was reset or restored), so the confirmed local data was dropped and is read
   * again; pending commands are kept and re-run on it, and nothing is pushed until then.
   */
  readonly rebootstrap?: Rebootstrap;
}

/** Sync status for UIs; the same in every tab of the database, except `leader`. */
export interface SyncStatus extends ConnectionState {
  /** This tab is the one syncing (it holds the Web Lock). */
  readonly leader: boolean;
  /** The browser reports a network (`navigator.onLine`). */
  readonly online: boolean;
  /** Commands not yet acknowledged by the server. */
  readonly pending: number;
  /** The last time a push or upstream batch succeeded. */
  readonly lastSyncedAt?: string;
  /** Scoped sync only: which scopes are held, back-filling, or refused by the server. */
  readonly scopes?: ScopesStatus;
  /**
   * Present when the device holds events this app version cannot read, kept unapplied (a newer
   * app version wrote them): how many, of which types and schema versions, and how many
   * aggregates they hold. Everything else keeps syncing; an app version that reads them applies
   * them when it starts. Show it as "update the app".
   */
  readonly unreadable?: UnreadableStatus;
}

export const INITIAL_CONNECTION: ConnectionState = {
  connected: false,
  catchUp: { received: 0, done: false },
};

/**
 * The status as a live value: the shared part comes from IndexedDB (so every tab sees the leader's
 * view and the count of pending commands), the per-tab part (`leader`, `online`) from `local`.
 */
export function liveSyncStatus(
  db: StrataDatabase,
  local: () => { readonly leader: boolean; readonly online: boolean },
  onLocalChange: (listener: () => void) => () => void,
  { scoped = false }: { readonly scoped?: boolean } = {},
): LiveSubscribable<SyncStatus> {
  const shared = liveQuery(async () => {
    const [pending, lastSyncedAt, connection, scopes, unreadable] = await Promise.all([
      db.commands.count(),
      db.syncState.get(LAST_SYNCED_AT_KEY),
      db.syncState.get(CONNECTION_KEY),
      scoped ? readScopeStates(db).then(scopesStatus) : undefined,
      readUnreadableStatus(db),
    ]);
    return {
      pending,
      lastSyncedAt: lastSyncedAt?.value as string | undefined,
      connection: (connection?.value as ConnectionState | undefined) ?? INITIAL_CONNECTION,
      scopes,
      unreadable,
    };
  });
  return {
    subscribe(observer) {
      const next = typeof observer === 'function' ? observer : observer.next;
      const error = typeof observer === 'function' ? undefined : observer.error;
      let latest: Awaited<ReturnType<Parameters<typeof liveQuery>[0]>> | undefined;
      const emit = () => {
        if (latest === undefined) return;
        const { pending, lastSyncedAt, connection, scopes, unreadable } = latest as {
          pending: number;
          lastSyncedAt: string | undefined;
          connection: ConnectionState;
          scopes: ScopesStatus | undefined;
          unreadable: UnreadableStatus | undefined;
        };
        next?.({
          ...connection,
          ...local(),
          pending,
          ...(lastSyncedAt === undefined ? {} : { lastSyncedAt }),
          ...(scopes === undefined ? {} : { scopes }),
          ...(unreadable === undefined ? {} : { unreadable }),
        });
      };
      const subscription = shared.subscribe({
        next: (value) => {
          latest = value;
          emit();
        },
        error: (cause: unknown) => error?.(cause),
      });
      const stopListening = onLocalChange(emit);
      return {
        unsubscribe() {
          stopListening();
          subscription.unsubscribe();
        },
      };
    },
  };
}
