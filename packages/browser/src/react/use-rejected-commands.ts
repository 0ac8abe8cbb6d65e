import { useCallback, useMemo } from 'react';
import type { RejectedCommandRow } from '../database/strata-database.ts';
import { useSyncClient } from './strata-context.ts';
import { useLiveValue } from './use-live-value.ts';

/** What `useRejectedCommands` returns. */
export interface RejectedCommands {
  /** Commands the server's state no longer allowed after a conflict, oldest first. */
  readonly rejected: readonly RejectedCommandRow[];
  /** Removes one from the list (`sync.dismissRejected`), once the user has seen it. */
  dismiss(seq: number): Promise<void>;
}

// One empty list for every render without rows, so it is safe in memo deps.
const NONE: readonly RejectedCommandRow[] = [];

/**
 * Commands rejected after a sync conflict (`sync.rejected`), live and shared by every tab, with
 * a way to dismiss them. Empty while loading and when the provider has no sync client.
 *
 * @example
 * const { rejected, dismiss } = useRejectedCommands();
 * rejected.map((row) => `${row.command}: ${row.reason}`);
 * await dismiss(rejected[0].seq);
 */
export function useRejectedCommands(): RejectedCommands {
  const sync = useSyncClient();
  const rejected = useLiveValue(sync?.rejected) ?? NONE;
  const dismiss = useCallback(
    async (seq: number) => {
      await sync?.dismissRejected(seq);
    },
    [sync],
  );
  return useMemo(() => ({ rejected, dismiss }), [rejected, dismiss]);
}
