import type { SyncStatus } from '@strata/browser';

/** The sync indicator's words, e.g. "Online · synced" or "Offline · 3 pending". */
export function syncStatusText(
  status: Pick<SyncStatus, 'online' | 'connected' | 'pending' | 'lastError' | 'catchUp'>,
): string {
  const pending = status.pending > 0 ? `${status.pending} pending` : undefined;
  if (!status.online) return `Offline · ${pending ?? 'saved on this device'}`;
  // The leader clears lastError on its next success; while it stands, the server is not reached.
  if (!status.connected && status.lastError !== undefined) {
    return join('Online', 'server unreachable', pending);
  }
  if (!status.connected && !status.catchUp.done) return join('Online', 'connecting', pending);
  return join('Online', pending ?? 'synced');
}

function join(...parts: (string | undefined)[]): string {
  return parts.filter((part) => part !== undefined).join(' · ');
}
