import { computed, type Ref, shallowRef, type WatchSource, watch } from 'vue';
import {
  type LiveSnapshot,
  liveSnapshots,
  snapshotValue,
  WAITING,
} from '../runtime/live-snapshot.ts';
import type { LiveSubscribable } from '../runtime/live-state.ts';

/**
 * A live source as a read-only ref, for the calling component's lifetime: `open` makes the
 * source, again whenever `key` changes (the old subscription ends first, and the ref reads
 * undefined until the new source delivers, so one query's result never shows as another's).
 * The watcher belongs to the component's effect scope: its cleanup, and so the unsubscribe,
 * runs when the component unmounts (or the scope is disposed). A failure throws where the ref
 * is read: in a render, Vue hands it to `onErrorCaptured` and `app.config.errorHandler`.
 */
export function liveRef<T, K>(
  key: WatchSource<K> | readonly WatchSource<unknown>[],
  open: (key: K) => LiveSubscribable<T> | undefined,
): Readonly<Ref<T | undefined>> {
  const snapshot = shallowRef<LiveSnapshot<T>>(WAITING);
  watch(
    key as WatchSource<K>,
    (value, _previous, onCleanup) => {
      const store = liveSnapshots(open(value));
      snapshot.value = store.getSnapshot();
      onCleanup(
        store.subscribe(() => {
          snapshot.value = store.getSnapshot();
        }),
      );
    },
    // Subscribed during setup, so the first result is on its way before the first render.
    { immediate: true },
  );
  return computed(() => snapshotValue(snapshot.value));
}
