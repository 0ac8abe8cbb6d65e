import type { AnyAggregateDefinition, LoadedAggregate, StateOf } from '@strata/core';
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

/**
 * An aggregate's state, live. A Dexie live query watches the stream's last event (cheap, and it
 * changes with every append, rebase or import in any tab); each change loads the state again
 * outside the live query, because the loader's nested awaits would escape Dexie's tracking.
 */
export function liveAggregateState<TAggregate extends AnyAggregateDefinition>(
  db: StrataDatabase,
  aggregate: TAggregate,
  aggregateId: string,
  load: (aggregate: TAggregate, id: string) => Promise<LoadedAggregate<StateOf<TAggregate>>>,
): LiveSubscribable<LoadedAggregate<StateOf<TAggregate>>> {
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
      const subscription = tip.subscribe({
        next: () => {
          const current = ++run;
          load(aggregate, aggregateId).then(
            (loaded) => {
              // Only the newest load reports: an older, slower one must not overwrite it.
              if (current === run && !closed) next?.(loaded);
            },
            (reason: unknown) => error?.(reason),
          );
        },
        error: (reason: unknown) => error?.(reason),
      });
      let closed = false;
      return {
        unsubscribe() {
          closed = true;
          subscription.unsubscribe();
        },
      };
    },
  };
}
