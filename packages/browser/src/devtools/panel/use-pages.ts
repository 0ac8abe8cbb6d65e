import { useCallback, useState } from 'react';

/** Where a paged list is: the cursor of the page shown, and the way back. */
export interface Pages<TCursor> {
  /** The cursor of the page shown; undefined for the first. */
  readonly cursor: TCursor | undefined;
  /** 1 for the first page. */
  readonly number: number;
  /** Shows the page after this one (its `next` cursor). */
  forward(next: TCursor): void;
  /** Shows the page before this one. */
  back(): void;
  /** Back to the first page (e.g. when the filter changed). */
  reset(): void;
}

/**
 * The pages a list has walked through, as a stack of cursors: the live queries page forward
 * only (`next`), so going back is popping a cursor.
 */
export function usePages<TCursor>(): Pages<TCursor> {
  const [stack, setStack] = useState<readonly TCursor[]>([]);
  return {
    cursor: stack.at(-1),
    number: stack.length + 1,
    forward: useCallback((next: TCursor) => setStack((current) => [...current, next]), []),
    back: useCallback(() => setStack((current) => current.slice(0, -1)), []),
    reset: useCallback(() => setStack([]), []),
  };
}
