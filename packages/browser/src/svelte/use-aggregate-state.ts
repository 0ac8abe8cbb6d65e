import type { AnyAggregateDefinition, StateOf } from '@strata/core';
import type { AggregateState } from '../runtime/live-state.ts';
import { type Live, liveCurrent, type MaybeGetter, read } from './live-current.ts';
import { useStrata } from './strata-context.ts';

/**
 * An aggregate's state and version, live (`strata.liveState`): follows every command, sync and
 * rebase, in any tab. `.current` is undefined until loaded; an aggregate with no events has its
 * initial state at version 0. Pass the id as a getter (`() => id`) when it is a prop or state:
 * a new id follows that aggregate instead.
 *
 * @example
 * let { id } = $props();
 * const todo = useAggregateState(Todo, () => id);
 * // {#if todo.current?.state.status === 'completed'}<s>{todo.current.state.title}</s>{/if}
 */
export function useAggregateState<TAggregate extends AnyAggregateDefinition>(
  aggregate: TAggregate,
  aggregateId: MaybeGetter<string>,
): Live<AggregateState<StateOf<TAggregate>>> {
  const strata = useStrata();
  return liveCurrent(
    () => [read(aggregateId)],
    ([id]) => strata.liveState(aggregate, id as string),
  );
}
