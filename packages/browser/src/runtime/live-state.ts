import type { AnyAggregateDefinition, StateOf, StoredEvent } from '@strata/core';
import { liveQuery } from 'dexie';
import type { StrataDatabase } from '../database/strata-database.ts';

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

/**
 * An aggregate's state, live. A Dexie live query watches the stream's last event (cheap, and it
 * changes with every append, rebase or import in any tab); each change loads the state again
 * outside the live query, because the loader's nested awaits would escape Dexie's tracking.
 * When this tab wrote the tip itself, the state its command computed is used instead of a load.
 */
export function liveAggregateState<TAggregate extends AnyAggregateDefinition>(
  db: StrataDatabase,
  aggregate: TAggregate,
  aggregateId: string,
  load: (aggregate: TAggregate, id: string) => Promise<AggregateState<StateOf<TAggregate>>>,
  recent: RecentStates,
): LiveSubscribable<AggregateState<StateOf<TAggregate>>> {
  const tip = liveQuery(() =>
    db.events
      .where('[aggregateType+aggregateId+version]')
      .between([aggregate.type, aggregateId], [aggregate.type, aggregateId, []], true, true)
      .last(),
  );
  return {
    subscribe(observer) {
      const { next, error } =
        typeof observer === 'function' ? { next: observer, error: undefined } : observer;
      let run = 0;
      let closed = false;
      const subscription = tip.subscribe({
        next: (tip: StoredEvent | undefined) => {
          const current = ++run;
          const known = tip === undefined ? undefined : recent.get(tip.id);
          if (known !== undefined) {
            next?.(known as AggregateState<StateOf<TAggregate>>);
            return;
          }
          load(aggregate, aggregateId).then(
            ({ state, version }) => {
              // Only the newest load reports: an older, slower one must not overwrite it.
              if (current === run && !closed) next?.({ state, version });
            },
            (reason: unknown) => error?.(reason),
          );
        },
        error: (reason: unknown) => error?.(reason),
      });
      return {
        unsubscribe() {
          closed = true;
          subscription.unsubscribe();
        },
      };
    },
  };
}
