import type { AnyAggregateDefinition, EventOf, StoredEvent } from '@strata/core';
import { type MaybeRefOrGetter, type Ref, toValue } from 'vue';
import { liveRef } from './live-ref.ts';
import { useStrata } from './strata-plugin.ts';

/**
 * An aggregate's events (decoded, typed, oldest first), live, as a read-only ref:
 * `strata.history` read again whenever the stream changes (a command, an event from the server,
 * a rebase). Undefined until read. The id may be a ref or a getter. Unsubscribed on unmount.
 *
 * @example
 * const events = useHistory(Todo, () => props.id);
 * // <li v-for="event in events ?? []" :key="event.id">{{ event.type }}</li>
 */
export function useHistory<TAggregate extends AnyAggregateDefinition>(
  aggregate: TAggregate,
  aggregateId: MaybeRefOrGetter<string>,
): Readonly<Ref<(EventOf<TAggregate> & StoredEvent)[] | undefined>> {
  const strata = useStrata();
  // history() only awaits Dexie reads of the stream's range, so the live query watches exactly
  // that range.
  return liveRef(
    () => toValue(aggregateId),
    (id) => strata.live(() => strata.history(aggregate, id)),
  );
}
