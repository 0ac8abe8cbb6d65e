import { useMemo } from 'react';
import { useStrata } from './strata-context.ts';
import { useLiveValue } from './use-live-value.ts';

/**
 * A live query (`strata.live`): the query's result, re-computed whenever the tables it read
 * change, in this tab or another. Undefined until the first result, and again after `deps`
 * change until the new query's first result. `deps` lists what `query` closes over, as with
 * `useEffect`; the query must only await Dexie operations.
 *
 * @example
 * const todos = useLiveQuery(
 *   () => strata.db.table<TodoRow, string>('todos').where('status').equals(status).toArray(),
 *   [status],
 * );
 */
export function useLiveQuery<T>(
  query: () => T | Promise<T>,
  deps: readonly unknown[],
): T | undefined {
  const strata = useStrata();
  // biome-ignore lint/correctness/useExhaustiveDependencies: `deps` stands for what `query` reads, as in useEffect; a new closure each render must not re-subscribe.
  const source = useMemo(() => strata.live(query), [strata, ...deps]);
  return useLiveValue(source);
}
