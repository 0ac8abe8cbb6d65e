import type { SyncStatus } from '@strata/browser';

type StatusFacts = Pick<SyncStatus, 'online' | 'connected' | 'pending' | 'lastError' | 'catchUp'>;

/**
 * What the indicator's dot shows (its colour; the words say the same): `synced` everything is
 * on the server; `pending` commands wait for it; `connecting` not yet caught up; `unreachable` the
 * browser is online but the server does not answer; `offline` the browser has no network.
 */
export type SyncState = 'synced' | 'pending' | 'connecting' | 'unreachable' | 'offline';

export function syncState(status: StatusFacts): SyncState {
  if (!status.online) return 'offline';
  // The leader clears lastError on its next success; while it stands, the server is not reached.
  if (!status.connected && status.lastError !== undefined) return 'unreachable';
  if (!status.connected && !status.catchUp.done) return 'connecting';
  return status.pending > 0 ? 'pending' : 'synced';
}

/** The sync indicator's words, e.g. "Online · synced" or "Offline · 3 pending". */
export function syncStatusText(status: StatusFacts): string {
  const pending = status.pending > 0 ? `${status.pending} pending` : undefined;
  switch (syncState(status)) {
    case 'offline':
      return `Offline · ${pending ?? 'saved on this device'}`;
    case 'unreachable':
      return join('Online', 'server unreachable', pending);
    case 'connecting':
      return join('Online', 'connecting', pending);
    default:
      return join('Online', pending ?? 'synced');
  }
}

function join(...parts: (string | undefined)[]): string {
  return parts.filter((part) => part !== undefined).join(' · ');
}
