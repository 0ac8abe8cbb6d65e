import { describe, expect, it } from 'vitest';
import { syncStatusText } from './sync-status-text.ts';

const synced = {
  online: true,
  connected: true,
  pending: 0,
  catchUp: { received: 0, done: true },
} as const;
const lastError = { code: 'UNAVAILABLE', message: 'Failed to fetch', at: '2025-01-01T00:00:00Z' };

describe('syncStatusText', () => {
  it('says synced when connected with nothing pending', () => {
    expect(syncStatusText(synced)).toBe('Online · synced');
  });

  it('counts pending commands', () => {
    expect(syncStatusText({ ...synced, pending: 2 })).toBe('Online · 2 pending');
    expect(syncStatusText({ ...synced, online: false, pending: 3 })).toBe('Offline · 3 pending');
    expect(syncStatusText({ ...synced, online: false })).toBe('Offline · saved on this device');
  });

  it('tells connecting from unreachable', () => {
    const disconnected = { ...synced, connected: false, catchUp: { received: 0, done: false } };
    expect(syncStatusText(disconnected)).toBe('Online · connecting');
    expect(syncStatusText({ ...disconnected, lastError, pending: 1 })).toBe(
      'Online · server unreachable · 1 pending',
    );
  });
});
