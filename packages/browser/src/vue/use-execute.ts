import type { Strata } from '../runtime/create-strata.ts';
import { useStrata } from './strata-plugin.ts';

/**
 * `strata.execute` of the provided runtime, typed like it: unknown commands and wrong inputs do
 * not compile. Call it in `setup()`; the function it returns can be called anywhere after.
 *
 * @example
 * const execute = useExecute();
 * const onAdd = (title: string) => execute(Todo, newKsuid(), 'add', { title });
 */
export function useExecute(): Strata['execute'] {
  return useStrata().execute;
}
