import { useMemo, useSyncExternalStore } from 'react';
import { liveSnapshots, snapshotValue } from '../runtime/live-snapshot.ts';
import type { LiveSubscribable } from '../runtime/live-state.ts';

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
  const store = useMemo(() => liveSnapshots(source), [source]);
  return snapshotValue(useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot));
}
