import {
  type AnyAggregateDefinition,
  type StateOf,
  type StoredEvent,
  streamKey,
} from '@strata/core';
import { Dexie, type ObservabilitySet, RangeSet } from 'dexie';
import { mutatesIndex, mutatesRows } from '../database/mutated-parts.ts';
import type { StrataDatabase } from '../database/strata-database.ts';
import { streamRange } from '../event-store/dexie-event-store.ts';

/** What strata's live queries return: subscribe with a callback or an observer. */
export interface LiveSubscribable<T> {
  subscribe(
    observer:
      | ((value: T) => void)
      | { next?: (value: T) => void; error?: (error: unknown) => void },
  ): { unsubscribe(): void };
}

/** An aggregate's state at a version. */
export interface AggregateState<TState> {
  readonly state: TState;
  readonly version: number;
}

/** States this tab just produced, keyed by the id of the event that produced them. */
export type RecentStates = Map<string, AggregateState<unknown>>;

/** A command this tab committed: the state it left and the event at its tip. */
export interface LocalCommit extends AggregateState<unknown> {
  readonly lastEventId: string;
  /** The tip event's position in the local log. */
  readonly lastPosition: number;
}

/**
 * Commits of this tab's commands, told to its live states as soon as they are committed, by
 * stream key: they need not read the tip back (issue 16). A transaction marked as one of them
 * (`markOwn`, with the mutated parts Dexie reports when it commits) is not read back at all;
 * every transaction marked must be published once it commits.
 */
export interface LocalCommits {
  publish(key: string, commit: LocalCommit): void;
  subscribe(key: string, listener: (commit: LocalCommit) => void): () => void;
  /** Marks a transaction's mutated parts (`idbtrans.mutatedParts`) as a command's own. */
  markOwn(parts: ObservabilitySet): void;
  isOwn(parts: ObservabilitySet): boolean;
}

/** A `LocalCommits` for one runtime. */
export function createLocalCommits(): LocalCommits {
  const listeners = new Map<string, Set<(commit: LocalCommit) => void>>();
  const own = new WeakSet<ObservabilitySet>();
  return {
    publish(key, commit) {
      for (const listener of listeners.get(key) ?? []) listener(commit);
    },
    subscribe(key, listener) {
      const forKey = listeners.get(key) ?? new Set();
      listeners.set(key, forKey);
      forKey.add(listener);
      return () => {
        forKey.delete(listener);
        if (forKey.size === 0) listeners.delete(key);
      };
    },
    markOwn: (parts) => void own.add(parts),
    isOwn: (parts) => own.has(parts),
  };
}

/**
 * An aggregate's state, live. It watches the stream's last event: read once, then again after
 * every committed transaction that may have changed it, in this tab or another (Dexie's
 * `storagemutated`: the stream's range of the version index, or the tip's row written or
 * deleted); each new tip loads the state, unless this tab's command produced it (`recent`).
 * This tab's commands (`local`) deliver their state as soon as they commit, and their own
 * transactions are not read back; a tip the watcher has seen as new or newer wins.
 */
export function liveAggregateState<TAggregate extends AnyAggregateDefinition>(
  db: StrataDatabase,
  aggregate: TAggregate,
  aggregateId: string,
  load: (aggregate: TAggregate, id: string) => Promise<AggregateState<StateOf<TAggregate>>>,
  recent: RecentStates,
  local: LocalCommits,
): LiveSubscribable<AggregateState<StateOf<TAggregate>>> {
  const stream = { aggregateType: aggregate.type, aggregateId };
  const [lower, upper] = streamRange(stream);
  const streamKeys = new RangeSet(lower as never, upper as never);
  const unreadablePart = `idb://${db.name}/unreadable/`;
  const readTip = () =>
    db.events.where('[aggregateType+aggregateId+version]').between(lower, upper, true, true).last();
  return {
    subscribe(observer) {
      const { next, error } =
        typeof observer === 'function' ? { next: observer, error: undefined } : observer;
      let run = 0;
      let closed = false;
      // The newest tip read, and the tip of the last state delivered.
      let seen: { readonly version: number; readonly position?: number } | undefined;
      let deliveredTipId: string | undefined;
      const deliver = (value: AggregateState<unknown>, tipId: string | undefined) => {
        deliveredTipId = tipId;
        next?.(value as AggregateState<StateOf<TAggregate>>);
      };
      const fail = (reason: unknown) => {
        if (!closed) error?.(reason);
      };

      const refresh = () => {
        const current = ++run;
        readTip().then((tip: StoredEvent | undefined) => {
          if (current !== run || closed) return;
          seen =
            tip === undefined ? { version: 0 } : { version: tip.version, position: tip.position };
          if (tip !== undefined && tip.id === deliveredTipId) return;
          const known = tip === undefined ? undefined : recent.get(tip.id);
          if (known !== undefined) {
            deliver(known, tip?.id);
            return;
          }
          load(aggregate, aggregateId).then(({ state, version }) => {
            // Only the newest read reports: an older, slower one must not overwrite it.
            if (current === run && !closed) deliver({ state, version }, tip?.id);
          }, fail);
        }, fail);
      };

      const touches = (parts: ObservabilitySet) => {
        const index = '[aggregateType+aggregateId+version]';
        if (mutatesIndex(parts, db.name, 'events', index, streamKeys)) return true;
        // A hold came or went (held-aggregates.ts): the state may change with the same tip.
        // Deletes by id tell no index, so any change counts: the table changes only with skew.
        if (Object.keys(parts).some((part) => part.startsWith(unreadablePart))) {
          deliveredTipId = undefined;
          return true;
        }
        const position = seen?.position;
        return (
          position !== undefined && mutatesRows(parts, db.name, 'events', new RangeSet(position))
        );
      };
      const onMutated = (parts: ObservabilitySet) => {
        if (closed || local.isOwn(parts)) return;
        if (seen === undefined || touches(parts)) refresh();
      };
      Dexie.on.storagemutated.subscribe(onMutated);
      refresh();

      const stopLocal = local.subscribe(streamKey(stream), (commit) => {
        const { lastEventId, lastPosition, state, version } = commit;
        // A tip as new as this one was read: the watcher delivers it (or a newer one).
        if (closed || (seen !== undefined && seen.version >= version)) return;
        if (deliveredTipId === lastEventId) return;
        // Any read in flight is of an older tip; it must not overwrite this state.
        run++;
        seen = { version, position: lastPosition };
        deliver({ state, version }, lastEventId);
      });
      return {
        unsubscribe() {
          closed = true;
          stopLocal();
          Dexie.on.storagemutated.unsubscribe(onMutated);
        },
      };
    },
  };
}
