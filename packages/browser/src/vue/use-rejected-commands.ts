import { computed, type Ref } from 'vue';
import type { RejectedCommandRow } from '../database/strata-database.ts';
import { liveRef } from './live-ref.ts';
import { useSyncClient } from './strata-plugin.ts';

/** What `useRejectedCommands` returns: destructure it in `setup()`. */
export interface RejectedCommands {
  /** Commands the server's state no longer allowed after a conflict, oldest first. */
  readonly rejected: Readonly<Ref<readonly RejectedCommandRow[]>>;
  /** Removes one from the list (`sync.dismissRejected`), once the user has seen it. */
  dismiss(seq: number): Promise<void>;
}

// One empty list while loading and without a sync client, so watchers see no change.
const NONE: readonly RejectedCommandRow[] = [];

/**
 * Commands rejected after a sync conflict (`sync.rejected`), live and shared by every tab, with
 * a way to dismiss them. Empty while loading and when no sync client was given. Unsubscribed
 * when the component unmounts.
 *
 * @example
 * const { rejected, dismiss } = useRejectedCommands();
 * // <li v-for="row in rejected" :key="row.seq">{{ row.command }}: {{ row.reason }}
 * //   <button @click="dismiss(row.seq)">OK</button></li>
 */
export function useRejectedCommands(): RejectedCommands {
  const sync = useSyncClient();
  const rows = liveRef([], () => sync?.rejected);
  return {
    rejected: computed(() => rows.value ?? NONE),
    async dismiss(seq) {
      await sync?.dismissRejected(seq);
    },
  };
}
