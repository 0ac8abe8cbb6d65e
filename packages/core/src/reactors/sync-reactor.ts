import type { AnyAggregateDefinition, EventOf } from '../aggregates/aggregate-definition.ts';
import type { StoredEvent } from '../events/event.ts';

/**
 * Runs inside the append's transaction, after inline projections; throwing vetoes the append and
 * the error reaches the caller. Not called on replay.
 */
export interface SyncReactor<TTransaction> {
  readonly name: string;
  readonly aggregate?: AnyAggregateDefinition;
  react(event: StoredEvent, transaction: TTransaction): void | Promise<void>;
}

/**
 * Declares a sync reactor over one aggregate's events.
 *
 * @example
 * const noShouting = defineSyncReactor({
 *   name: 'no-shouting',
 *   aggregate: Todo,
 *   react(event) {
 *     if (event.type === 'TodoAdded' && event.data.title === event.data.title.toUpperCase())
 *       throw new DomainRuleViolatedError('SHOUTING', 'Please do not shout');
 *   },
 * });
 */
export function defineSyncReactor<TAggregate extends AnyAggregateDefinition, TTransaction>(config: {
  readonly name: string;
  readonly aggregate: TAggregate;
  react(event: EventOf<TAggregate> & StoredEvent, transaction: TTransaction): void | Promise<void>;
}): SyncReactor<TTransaction> {
  return config as SyncReactor<TTransaction>;
}
