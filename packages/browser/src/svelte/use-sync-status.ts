import type { SyncStatus } from '../sync/sync-status.ts';
import { type Live, liveCurrent } from './live-current.ts';
import { useSyncClient } from './strata-context.ts';

/**
 * The sync client's live status (`sync.status`): leader, online, connected, pending,
 * lastSyncedAt, lastError, catchUp. `.current` is undefined until the first status, and when no
 * sync client was given.
 *
 * @example
 * const status = useSyncStatus();
 * const label = $derived(status.current?.online ? `${status.current.pending} pending` : 'Offline');
 */
export function useSyncStatus(): Live<SyncStatus> {
  const sync = useSyncClient();
  return liveCurrent(
    () => [],
    () => sync?.status,
  );
}
