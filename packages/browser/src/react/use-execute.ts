import type { Strata } from '../runtime/create-strata.ts';
import { useStrata } from './strata-context.ts';

/**
 * `strata.execute` of the provider's runtime: one function per runtime, so stable across renders
 * (safe in effect and memo deps). Typed like `execute`: unknown commands and wrong inputs do not
 * compile.
 *
 * @example
 * const execute = useExecute();
 * const onAdd = (title: string) => execute(Todo, newKsuid(), 'add', { title });
 */
export function useExecute(): Strata['execute'] {
  return useStrata().execute;
}
