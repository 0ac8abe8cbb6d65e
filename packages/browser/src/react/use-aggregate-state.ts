import type { AnyAggregateDefinition, StateOf } from '@strata/core';
import { useMemo } from 'react';
import type { AggregateState } from '../runtime/live-state.ts';
import { useStrata } from './strata-context.ts';
import { useLiveValue } from './use-live-value.ts';

/**
 * An aggregate's state and version, live (`strata.liveState`): follows every command, sync and
 * rebase, in any tab. Undefined until loaded; an aggregate with no events has its initial state
 * at version 0. Pass a module-level aggregate definition: a new object re-subscribes.
 *
 * @example
 * const todo = useAggregateState(Todo, id);
 * if (todo?.state.status === 'completed') return createElement('s', null, todo.state.title);
 */
export function useAggregateState<TAggregate extends AnyAggregateDefinition>(
  aggregate: TAggregate,
  aggregateId: string,
): AggregateState<StateOf<TAggregate>> | undefined {
  const strata = useStrata();
  const source = useMemo(
    () => strata.liveState(aggregate, aggregateId),
    [strata, aggregate, aggregateId],
  );
  return useLiveValue(source);
}
