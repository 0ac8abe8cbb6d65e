import type { LiveSubscribable } from './live-state.ts';

/** What a live source has delivered so far: nothing yet, its latest value, or its failure. */
export type LiveSnapshot<T> =
  | { readonly kind: 'waiting' }
  | { readonly kind: 'value'; readonly value: T }
  | { readonly kind: 'error'; readonly error: unknown };

/** The snapshot of a source that has delivered nothing: one object, so it compares equal. */
export const WAITING: LiveSnapshot<never> = { kind: 'waiting' };

/**
 * A live source as an external store (the shape React's `useSyncExternalStore` takes, and what
 * the Vue and Svelte bindings wrap): subscribe with a change callback, read the latest snapshot.
 */
export interface LiveSnapshotStore<T> {
  /** Subscribes to the source; `onChange` runs after each new snapshot. Returns the unsubscribe. */
  subscribe(onChange: () => void): () => void;
  /** The latest snapshot: the same object until the source delivers again. */
  getSnapshot(): LiveSnapshot<T>;
}

/**
 * The framework bindings' one live core: each of them (React, Vue, Svelte) reads a strata live
 * source (`strata.live`, `liveState`, `sync.status`, `sync.rejected`) through this, so they agree
 * on what "not yet" and "failed" mean. An undefined source (no sync client) stays waiting.
 */
export function liveSnapshots<T>(source: LiveSubscribable<T> | undefined): LiveSnapshotStore<T> {
  // A new object only when the source delivers: React's getSnapshot must be stable between changes.
  let snapshot: LiveSnapshot<T> = WAITING;
  return {
    subscribe(onChange) {
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
    getSnapshot: () => snapshot,
  };
}

/**
 * A snapshot as the bindings return it: the value, undefined while waiting, and a failure thrown
 * where the value is read (a render: React's error boundary, Vue's `onErrorCaptured`, Svelte's
 * `<svelte:boundary>`), rather than shown as if the query had found nothing.
 */
export function snapshotValue<T>(snapshot: LiveSnapshot<T>): T | undefined {
  if (snapshot.kind === 'error') throw snapshot.error;
  return snapshot.kind === 'value' ? snapshot.value : undefined;
}
