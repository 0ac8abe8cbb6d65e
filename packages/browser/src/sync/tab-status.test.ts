import { describe, expect, it, vi } from 'vitest';
import { createTabStatus, isOnline } from './tab-status.ts';

describe('createTabStatus', () => {
  it('starts as a follower, tells listeners of changes, and hands out copies', () => {
    const tab = createTabStatus(false);
    const listener = vi.fn();
    const unsubscribe = tab.subscribe(listener);
    const before = tab.get();
    tab.set({ leader: true });
    expect(before).toEqual({ leader: false, online: false });
    expect(tab.get()).toEqual({ leader: true, online: false });
    expect(listener).toHaveBeenCalledTimes(1);
    unsubscribe();
    tab.set({ online: true });
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('is online by default where there is no navigator to ask (Node)', () => {
    vi.stubGlobal('navigator', undefined);
    try {
      expect(isOnline()).toBe(true);
      expect(createTabStatus().get().online).toBe(true);
    } finally {
      vi.unstubAllGlobals();
    }
    vi.stubGlobal('navigator', { onLine: false });
    try {
      expect(createTabStatus().get().online).toBe(false);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
