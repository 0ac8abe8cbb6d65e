import type { Ref, WatchSource } from 'vue';
import { liveRef } from './live-ref.ts';
import { useStrata } from './strata-plugin.ts';

/**
 * A live query (`strata.live`) as a read-only ref: the query's result, re-computed whenever the
 * tables it read change, in this tab or another. Undefined until the first result. `deps` are
 * watch sources (refs, getters, props as `() => props.x`) that the query reads: when one
 * changes, the query is subscribed anew (and reads undefined until its first result). The query
 * must only await Dexie operations. Unsubscribed when the component unmounts.
 *
 * @example
 * const status = ref<'active' | 'completed'>('active');
 * const todos = useLiveQuery(
 *   () => strata.db.table<TodoRow, string>('todos').where('status').equals(status.value).toArray(),
 *   [status],
 * );
 */
export function useLiveQuery<T>(
  query: () => T | Promise<T>,
  deps: WatchSource<unknown> | readonly WatchSource<unknown>[] = [],
): Readonly<Ref<T | undefined>> {
  const strata = useStrata();
  return liveRef(deps, () => strata.live(query));
}
