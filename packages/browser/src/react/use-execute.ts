import { useMemo } from 'react';
import type { Strata } from '../runtime/create-strata.ts';
import { useStrata } from './strata-context.ts';

/**
 * `strata.execute`, bound to the provider's runtime and stable across renders (safe in effect
 * and memo deps). Typed like `execute`: unknown commands and wrong inputs do not compile.
 *
 * @example
 * const execute = useExecute();
 * const onAdd = (title: string) => execute(Todo, newKsuid(), 'add', { title });
 */
export function useExecute(): Strata['execute'] {
  const strata = useStrata();
  return useMemo<Strata['execute']>(
    () => (aggregate, aggregateId, command, input, options) =>
      strata.execute(aggregate, aggregateId, command, input, options),
    [strata],
  );
}
