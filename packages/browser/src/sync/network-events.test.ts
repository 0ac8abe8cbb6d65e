import { afterEach, describe, expect, it, vi } from 'vitest';
import { watchNetwork } from './network-events.ts';

describe('watchNetwork', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("calls the handlers on the window's online and offline events until unwatched", () => {
    const window = new EventTarget();
    vi.stubGlobal('addEventListener', window.addEventListener.bind(window));
    vi.stubGlobal('removeEventListener', window.removeEventListener.bind(window));
    const onOnline = vi.fn();
    const onOffline = vi.fn();
    const unwatch = watchNetwork({ onOnline, onOffline });
    window.dispatchEvent(new Event('offline'));
    window.dispatchEvent(new Event('online'));
    expect([onOffline.mock.calls.length, onOnline.mock.calls.length]).toEqual([1, 1]);
    unwatch();
    window.dispatchEvent(new Event('online'));
    expect(onOnline).toHaveBeenCalledTimes(1);
  });

  it('does nothing where there is no window (Node)', () => {
    vi.stubGlobal('addEventListener', undefined);
    vi.stubGlobal('removeEventListener', undefined);
    const unwatch = watchNetwork({ onOnline: vi.fn(), onOffline: vi.fn() });
    expect(unwatch).not.toThrow();
  });
});
