// Changing which scopes a device holds: from the app (`sync.setScopes`, add, remove) and from
// the server (a 403 naming scopes). Every change is one transaction over the scope rows and the
// data they hold, so any tab may make it and a crash leaves the old set or the new one.
import type { ScopeRef } from '@strata/core';
import { liveQuery } from 'dexie';
import { withStorageErrors } from '../database/storage-errors.ts';
import type { RejectedCommandRow } from '../database/strata-database.ts';
import type { StrataTransaction } from '../event-store/strata-transaction.ts';
import { dropScopes } from './drop-aggregates.ts';
import {
  deleteScopeStates,
  readScopeStates,
  type ScopeState,
  scopeChange,
  writeScopeStates,
} from './scope-set.ts';
import type { SyncContext } from './sync-context.ts';

/** What changes the device's scope set. */
export interface ScopeControl {
  /**
   * Makes `refs` the device's scopes: new ones back-fill, removed ones are dropped with the
   * aggregates no other held scope holds (their pending commands rejected as `FORBIDDEN`).
   */
  setScopes(refs: readonly ScopeRef[]): Promise<void>;
  addScope(ref: ScopeRef): Promise<void>;
  removeScope(ref: ScopeRef | string): Promise<void>;
  /**
   * The server refused `keys`: they stay asked for (retried later) but hold nothing; what only
   * they held is dropped (an aggregate with pending commands once the server answered them).
   */
  refuse(keys: readonly string[]): Promise<void>;
}

export interface ScopeControlHandlers {
  /** Called with the commands a change rejected (never with none). */
  readonly onRejected: (rows: readonly RejectedCommandRow[]) => void;
  /** Called after the set changed. */
  readonly onChanged: () => void;
}

/**
 * @example
 * const scopes = createScopeControl(context, { onRejected: show, onChanged: wake });
 * await scopes.addScope(project({ projectId: 'p2' }));
 */
export function createScopeControl(
  context: SyncContext,
  handlers: ScopeControlHandlers,
): ScopeControl {
  const { db } = context.strata;
  const change = (
    work: (states: ScopeState[], transaction: StrataTransaction) => Promise<RejectedCommandRow[]>,
  ) =>
    withStorageErrors(async () => {
      const rejected = await db.transaction('rw', db.tables, async (dexie) =>
        work(await readScopeStates(db), { dexie, table: (name) => db.table(name) }),
      );
      if (rejected.length > 0) handlers.onRejected(rejected);
      handlers.onChanged();
    });
  const setScopes = (refs: readonly ScopeRef[]) =>
    change(async (states, transaction) => {
      const { added, removed } = scopeChange(states, refs);
      await writeScopeStates(db, added);
      await deleteScopeStates(db, removed);
      return dropScopes(context, removed, transaction, { rejectPending: true });
    });
  return {
    setScopes,
    addScope: (ref) =>
      change(async (states) => {
        await writeScopeStates(db, scopeChange(states, [ref]).added);
        return [];
      }),
    removeScope: (ref) =>
      change(async (_states, transaction) => {
        const key = typeof ref === 'string' ? ref : ref.key;
        await deleteScopeStates(db, [key]);
        return dropScopes(context, [key], transaction, { rejectPending: true });
      }),
    refuse: (keys) =>
      change(async (states, transaction) => {
        const refusedAt = context.clock().toISOString();
        const refused = states
          .filter((state) => keys.includes(state.key))
          .map(({ cursor: _cursor, ...state }) => ({ ...state, complete: false, refusedAt }));
        await writeScopeStates(db, refused);
        return dropScopes(
          context,
          refused.map((state) => state.key),
          transaction,
          { rejectPending: false },
        );
      }),
  };
}

/** A watch over the device's scope rows (`watchScopeSet`). */
export interface ScopeSetWatch {
  /**
   * The keys of the scopes asked for as last read, in key order: what the device asks for again
   * once its database is gone (database-loss.ts). Undefined before the first read.
   */
  readonly keys: () => readonly string[] | undefined;
  readonly stop: () => void;
}

/**
 * Calls `onChange` when the set of scopes or their standing changes (in any tab: Dexie
 * broadcasts), not when a cursor moves. The first read is taken once `after` settled (the set
 * given at start written): one taken before it would name the set the start replaces.
 */
export function watchScopeSet(
  context: SyncContext,
  onChange: () => void,
  after: Promise<unknown>,
): ScopeSetWatch {
  let last: string | undefined;
  let keys: readonly string[] | undefined;
  let stopped = false;
  let subscription: { unsubscribe: () => void } | undefined;
  const watch = () => {
    if (stopped) return;
    subscription = liveQuery(() => readScopeStates(context.strata.db)).subscribe({
      next: (states) => {
        keys = states.map((state) => state.key);
        const standing = JSON.stringify(
          states.map((state) => [state.key, state.complete, state.refusedAt ?? null]),
        );
        if (last !== undefined && standing !== last) onChange();
        last = standing;
      },
      error: () => undefined,
    });
  };
  after.then(watch, watch);
  return {
    keys: () => keys,
    stop: () => {
      stopped = true;
      subscription?.unsubscribe();
    },
  };
}
