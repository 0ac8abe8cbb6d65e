import { useLiveQuery, useStrata } from '@strata/browser/react';
import type { TodoRow } from './todo-list.ts';

/** Every todo, oldest first, live across tabs; undefined until IndexedDB answers. */
export function useTodos(): readonly TodoRow[] | undefined {
  const strata = useStrata();
  return useLiveQuery(
    () => strata.db.table<TodoRow, string>('todos').orderBy('createdAt').toArray(),
    [],
  );
}
