import { describe, expect, it, vi } from 'vitest';
import { createSyncedWaiters } from './synced-waiters.ts';

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('createSyncedWaiters', () => {
  it('reads nothing while nobody waits', () => {
    const isSynced = vi.fn(async () => true);
    createSyncedWaiters(isSynced).check();
    expect(isSynced).not.toHaveBeenCalled();
  });

  it('resolves every waiter at the first check that finds the client synced', async () => {
    let synced = false;
    const waiters = createSyncedWaiters(async () => synced);
    const resolved: string[] = [];
    void waiters.wait().then(() => resolved.push('first'));
    void waiters.wait().then(() => resolved.push('second'));
    await settle();
    waiters.check();
    await settle();
    expect(resolved).toEqual([]);

    synced = true;
    waiters.check();
    await settle();
    expect(resolved).toEqual(['first', 'second']);
  });

  it('resolves at once when already synced', async () => {
    await expect(createSyncedWaiters(async () => true).wait()).resolves.toBeUndefined();
  });
});
