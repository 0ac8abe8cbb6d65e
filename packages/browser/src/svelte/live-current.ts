import { createSubscriber } from 'svelte/reactivity';
import { type LiveSnapshotStore, liveSnapshots, snapshotValue } from '../runtime/live-snapshot.ts';
import type { LiveSubscribable } from '../runtime/live-state.ts';

/** A live value as Svelte 5 reads one: a reactive `current`, as `MediaQuery` and `fromStore`. */
export interface Live<T> {
  /**
   * The latest value, undefined until the first. Reactive where it is read in the template, a
   * `$derived` or an `$effect`: read there, it subscribes, and it unsubscribes once nothing reads
   * it (the component unmounted, the `{#if}` around it closed). A failure throws here, for the
   * nearest `<svelte:boundary>`.
   */
  readonly current: T | undefined;
}

/** A value or a getter of it: how a Svelte 5 function takes an input that may change. */
export type MaybeGetter<T> = T | (() => T);

/** The value of a `MaybeGetter`; a getter is read (and tracked) where this runs. */
export function read<T>(value: MaybeGetter<T>): T {
  return typeof value === 'function' ? (value as () => T)() : value;
}

interface Keyed<T> {
  readonly key: readonly unknown[];
  readonly store: LiveSnapshotStore<T>;
  readonly subscribe: () => void;
}

/**
 * A live source as a `Live` value. Why `createSubscriber` rather than a readable store:
 * Svelte 5 code reads reactive values as `x.current` (svelte/reactivity's MediaQuery, fromStore,
 * runed), works in plain `.ts` files and needs no `$` prefix or `onDestroy`; and
 * `createSubscriber` ties the subscription to the effects that read the value, so unmounting a
 * component (or closing the block that shows it) unsubscribes with no code of the user's, and a
 * value read by several effects holds one subscription. It needs no Svelte compiler either: this
 * binding ships as the plain JavaScript tsc emits.
 *
 * `key` is read (tracked) with each read of `current`: when it changes, `open` makes the source
 * for the new key, the old one is unsubscribed once its readers re-run, and `current` reads
 * undefined until the new source delivers, so one query's result never shows as another's.
 */
export function liveCurrent<T>(
  key: () => readonly unknown[],
  open: (key: readonly unknown[]) => LiveSubscribable<T> | undefined,
): Live<T> {
  let keyed: Keyed<T> | undefined;
  const forKey = (key: readonly unknown[]): Keyed<T> => {
    if (keyed === undefined || !sameKey(keyed.key, key)) {
      const store = liveSnapshots(open(key));
      keyed = { key, store, subscribe: createSubscriber((update) => store.subscribe(update)) };
    }
    return keyed;
  };
  return {
    get current() {
      const { store, subscribe } = forKey(key());
      subscribe();
      return snapshotValue(store.getSnapshot());
    },
  };
}

function sameKey(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((value, index) => Object.is(value, b[index]));
}
