import type { Strata } from '../runtime/create-strata.ts';
import { useStrata } from './strata-context.ts';

/**
 * `strata.execute` of the runtime in context, typed like it: unknown commands and wrong inputs
 * do not compile. Call it during component initialisation; call what it returns anywhere.
 *
 * @example
 * const execute = useExecute();
 * const onAdd = (title: string) => execute(Todo, newKsuid(), 'add', { title });
 */
export function useExecute(): Strata['execute'] {
  return useStrata().execute;
}
