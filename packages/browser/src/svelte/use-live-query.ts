import { type Live, liveCurrent } from './live-current.ts';
import { useStrata } from './strata-context.ts';

const NO_DEPS = (): readonly unknown[] => [];

/**
 * A live query (`strata.live`): `.current` is the query's result, re-computed whenever the
 * tables it read change, in this tab or another; undefined until the first result. `deps`
 * returns what the query reads from props or state (`() => [status]`): when it changes, the
 * query is subscribed anew (and reads undefined until its first result). The query must only
 * await Dexie operations. Call it during component initialisation.
 *
 * @example
 * let { status } = $props();
 * const todos = useLiveQuery(
 *   () => strata.db.table<TodoRow, string>('todos').where('status').equals(status).toArray(),
 *   () => [status],
 * );
 * // {#each todos.current ?? [] as todo (todo.id)}<li>{todo.title}</li>{/each}
 */
export function useLiveQuery<T>(
  query: () => T | Promise<T>,
  deps: () => readonly unknown[] = NO_DEPS,
): Live<T> {
  const strata = useStrata();
  return liveCurrent(deps, () => strata.live(query));
}
