import type { Ref } from 'vue';
import type { SyncStatus } from '../sync/sync-status.ts';
import { liveRef } from './live-ref.ts';
import { useSyncClient } from './strata-plugin.ts';

/**
 * The sync client's live status (`sync.status`) as a read-only ref: leader, online, connected,
 * pending, lastSyncedAt, lastError, catchUp. Undefined until the first status, and when no sync
 * client was given. Unsubscribed when the component unmounts.
 *
 * @example
 * const status = useSyncStatus();
 * const label = computed(() => (status.value?.online ? `${status.value.pending} pending` : 'Offline'));
 */
export function useSyncStatus(): Readonly<Ref<SyncStatus | undefined>> {
  const sync = useSyncClient();
  return liveRef([], () => sync?.status);
}
