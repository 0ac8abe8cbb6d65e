import { describe, expect, it } from 'vitest';
import { syncState, syncStatusText } from './sync-status-text.ts';

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

describe('syncState', () => {
  const disconnected = { ...synced, connected: false, catchUp: { received: 0, done: false } };

  it('names the state the dot shows', () => {
    expect(syncState(synced)).toBe('synced');
    expect(syncState({ ...synced, pending: 1 })).toBe('pending');
    expect(syncState(disconnected)).toBe('connecting');
    expect(syncState({ ...disconnected, lastError })).toBe('unreachable');
    expect(syncState({ ...disconnected, lastError, pending: 2 })).toBe('unreachable');
    expect(syncState({ ...synced, online: false, pending: 3 })).toBe('offline');
    expect(syncState({ ...disconnected, online: false, lastError })).toBe('offline');
  });

  it('is not "synced" while caught up but disconnected with an error', () => {
    const caughtUp = { ...synced, connected: false, lastError };
    expect(syncState(caughtUp)).toBe('unreachable');
    expect(syncStatusText(caughtUp)).toBe('Online · server unreachable');
  });
});
