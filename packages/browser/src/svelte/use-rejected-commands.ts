import type { RejectedCommandRow } from '../database/strata-database.ts';
import { liveCurrent } from './live-current.ts';
import { useSyncClient } from './strata-context.ts';

/** What `useRejectedCommands` returns. */
export interface RejectedCommands {
  /**
   * Commands the server's state no longer allowed after a conflict, oldest first; empty while
   * loading and without a sync client. Reactive as `Live.current` is.
   */
  readonly current: readonly RejectedCommandRow[];
  /** Removes one from the list (`sync.dismissRejected`), once the user has seen it. */
  dismiss(seq: number): Promise<void>;
}

// One empty list while loading and without a sync client, so deriveds see no change.
const NONE: readonly RejectedCommandRow[] = [];

/**
 * Commands rejected after a sync conflict (`sync.rejected`), live and shared by every tab, with
 * a way to dismiss them.
 *
 * @example
 * const rejected = useRejectedCommands();
 * // {#each rejected.current as row (row.seq)}
 * //   <p>{row.command}: {row.reason} <button onclick={() => rejected.dismiss(row.seq)}>OK</button></p>
 * // {/each}
 */
export function useRejectedCommands(): RejectedCommands {
  const sync = useSyncClient();
  const rows = liveCurrent(
    () => [],
    () => sync?.rejected,
  );
  return {
    get current() {
      return rows.current ?? NONE;
    },
    async dismiss(seq) {
      await sync?.dismissRejected(seq);
    },
  };
}
