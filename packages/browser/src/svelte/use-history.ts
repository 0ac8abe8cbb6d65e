import type { AnyAggregateDefinition, EventOf, StoredEvent } from '@strata/core';
import { type Live, liveCurrent, type MaybeGetter, read } from './live-current.ts';
import { useStrata } from './strata-context.ts';

/**
 * An aggregate's events (decoded, typed, oldest first), live: `strata.history` read again
 * whenever the stream changes (a command, an event from the server, a rebase). `.current` is
 * undefined until read. Pass the id as a getter when it is a prop or state.
 *
 * @example
 * const events = useHistory(Todo, () => id);
 * // {#each events.current ?? [] as event (event.id)}<li>{event.type}</li>{/each}
 */
export function useHistory<TAggregate extends AnyAggregateDefinition>(
  aggregate: TAggregate,
  aggregateId: MaybeGetter<string>,
): Live<(EventOf<TAggregate> & StoredEvent)[]> {
  const strata = useStrata();
  // history() only awaits Dexie reads of the stream's range, so the live query watches exactly
  // that range.
  return liveCurrent(
    () => [read(aggregateId)],
    ([id]) => strata.live(() => strata.history(aggregate, id as string)),
  );
}
