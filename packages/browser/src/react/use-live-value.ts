import { useMemo, useSyncExternalStore } from 'react';
import type { LiveSubscribable } from '../runtime/live-state.ts';

type Snapshot<T> =
  | { readonly kind: 'waiting' }
  | { readonly kind: 'value'; readonly value: T }
  | { readonly kind: 'error'; readonly error: unknown };

const WAITING: Snapshot<never> = { kind: 'waiting' };

/**
 * The latest value of a live subscribable, or undefined until its first one. Through
 * `useSyncExternalStore`, so every component of a render sees the same value (no tearing) and
 * React subscribes and unsubscribes with the component's lifetime (StrictMode included).
 *
 * `source` must be memoised by the caller: a new source is a new subscription, and reads
 * undefined until it delivers, so a component never shows one query's result as another's.
 * A failed query is thrown from the render, for the nearest error boundary.
 */
export function useLiveValue<T>(source: LiveSubscribable<T> | undefined): T | undefined {
  const store = useMemo(() => liveStore(source), [source]);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  if (snapshot.kind === 'error') throw snapshot.error;
  return snapshot.kind === 'value' ? snapshot.value : undefined;
}

function liveStore<T>(source: LiveSubscribable<T> | undefined) {
  // A new object only when the source delivers: getSnapshot must be stable between changes.
  let snapshot: Snapshot<T> = WAITING;
  return {
    subscribe(onChange: () => void): () => void {
      if (source === undefined) return () => undefined;
      const subscription = source.subscribe({
        next: (value) => {
          snapshot = { kind: 'value', value };
          onChange();
        },
        error: (error) => {
          snapshot = { kind: 'error', error };
          onChange();
        },
      });
      return () => subscription.unsubscribe();
    },
    getSnapshot: (): Snapshot<T> => snapshot,
  };
}
