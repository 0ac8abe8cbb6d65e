import type { AnyAggregateDefinition, StateOf } from '@strata/core';
import { type MaybeRefOrGetter, type Ref, toValue } from 'vue';
import type { AggregateState } from '../runtime/live-state.ts';
import { liveRef } from './live-ref.ts';
import { useStrata } from './strata-plugin.ts';

/**
 * An aggregate's state and version, live (`strata.liveState`), as a read-only ref: follows
 * every command, sync and rebase, in any tab. Undefined until loaded; an aggregate with no
 * events has its initial state at version 0. The id may be a ref or a getter (`() => props.id`):
 * a new id follows that aggregate instead. Unsubscribed when the component unmounts.
 *
 * @example
 * const todo = useAggregateState(Todo, () => props.id);
 * // <s v-if="todo?.state.status === 'completed'">{{ todo.state.title }}</s>
 */
export function useAggregateState<TAggregate extends AnyAggregateDefinition>(
  aggregate: TAggregate,
  aggregateId: MaybeRefOrGetter<string>,
): Readonly<Ref<AggregateState<StateOf<TAggregate>> | undefined>> {
  const strata = useStrata();
  return liveRef(
    () => toValue(aggregateId),
    (id) => strata.liveState(aggregate, id),
  );
}
