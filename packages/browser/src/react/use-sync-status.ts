import type { SyncStatus } from '../sync/sync-status.ts';
import { useSyncClient } from './strata-context.ts';
import { useLiveValue } from './use-live-value.ts';

/**
 * The sync client's live status (`sync.status`): leader, online, connected, pending,
 * lastSyncedAt, lastError, catchUp. Undefined until the first status, and when the provider has
 * no sync client.
 *
 * @example
 * const status = useSyncStatus();
 * const label = status?.online ? `${status.pending} pending` : 'Offline';
 */
export function useSyncStatus(): SyncStatus | undefined {
  return useLiveValue(useSyncClient()?.status);
}
