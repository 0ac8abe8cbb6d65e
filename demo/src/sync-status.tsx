import { useSyncStatus } from '@strata/browser/react';
import { syncStatusText } from './sync-status-text.ts';

/** The sync indicator; its data attributes are for tests and styles. */
export function SyncStatus() {
  const status = useSyncStatus();
  if (status === undefined) return null;
  const details = [
    status.lastSyncedAt === undefined ? undefined : `Last synced ${status.lastSyncedAt}`,
    status.lastError === undefined ? undefined : `Last error: ${status.lastError.message}`,
    status.leader ? 'This tab syncs' : 'Another tab syncs',
  ];
  return (
    <div
      className="sync-status"
      aria-live="polite"
      data-online={String(status.online)}
      data-connected={String(status.connected)}
      data-pending={String(status.pending)}
      data-leader={String(status.leader)}
      title={details.filter(Boolean).join('\n')}
    >
      {syncStatusText(status)}
    </div>
  );
}
