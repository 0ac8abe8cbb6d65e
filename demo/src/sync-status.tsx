import { useSyncStatus } from '@strata/browser/react';
import { humanTime } from './human-time.ts';
import { syncState, syncStatusText } from './sync-status-text.ts';
import { useNow } from './use-now.ts';

/**
 * The sync indicator: a dot whose colour is its state (`data-state`, see app.css) and the same in
 * words, so colour is never the only signal. Its data attributes are for tests and styles.
 */
export function SyncStatus() {
  const status = useSyncStatus();
  const now = useNow();
  if (status === undefined) return null;
  const when = (iso: string) => {
    const time = humanTime(iso, now);
    return `${time.relative} (${time.absolute})`;
  };
  const details = [
    status.lastSyncedAt === undefined ? undefined : `Last synced ${when(status.lastSyncedAt)}`,
    status.lastError === undefined
      ? undefined
      : `Last error ${when(status.lastError.at)}: ${status.lastError.message}`,
    status.leader ? 'This tab syncs' : 'Another tab syncs',
  ];
  return (
    <div
      className="sync-status"
      role="status"
      data-state={syncState(status)}
      data-online={String(status.online)}
      data-connected={String(status.connected)}
      data-pending={String(status.pending)}
      data-leader={String(status.leader)}
      title={details.filter(Boolean).join('\n')}
    >
      <span className="sync-dot" aria-hidden="true" />
      <span className="sync-text">{syncStatusText(status)}</span>
    </div>
  );
}
