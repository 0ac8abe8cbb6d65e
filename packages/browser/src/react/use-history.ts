import type { AnyAggregateDefinition, EventOf, StoredEvent } from '@strata/core';
import { useStrata } from './strata-context.ts';
import { useLiveQuery } from './use-live-query.ts';

/**
 * An aggregate's events (decoded, typed, oldest first), live: `strata.history` read again
 * whenever the stream changes (a command, an event from the server, a rebase). Undefined until
 * read. Pass a module-level aggregate definition: a new object re-subscribes.
 *
 * @example
 * const events = useHistory(Todo, id) ?? [];
 * return events.map((event) => createElement('li', { key: event.id }, event.type));
 */
export function useHistory<TAggregate extends AnyAggregateDefinition>(
  aggregate: TAggregate,
  aggregateId: string,
): (EventOf<TAggregate> & StoredEvent)[] | undefined {
  const strata = useStrata();
  // history() only awaits Dexie reads of the stream's range, so the live query watches exactly
  // that range.
  return useLiveQuery(() => strata.history(aggregate, aggregateId), [aggregate, aggregateId]);
}
