import { describe, expect, it } from 'vitest';
import { liveSnapshots, snapshotValue, WAITING } from './live-snapshot.ts';
import type { LiveSubscribable } from './live-state.ts';

/** A source the test drives: what it delivers, and whether anyone still listens. */
function manualSource<T>() {
  let observer: { next?: (value: T) => void; error?: (error: unknown) => void } | undefined;
  const source: LiveSubscribable<T> = {
    subscribe(given) {
      observer = typeof given === 'function' ? { next: given } : given;
      return {
        unsubscribe: () => {
          observer = undefined;
        },
      };
    },
  };
  return {
    source,
    next: (value: T) => observer?.next?.(value),
    fail: (error: unknown) => observer?.error?.(error),
    listening: () => observer !== undefined,
  };
}

describe('liveSnapshots', () => {
  it('waits, then holds each delivered value in a new snapshot, stable between deliveries', () => {
    const manual = manualSource<number>();
    const store = liveSnapshots(manual.source);
    expect(store.getSnapshot()).toBe(WAITING);
    let changes = 0;
    const unsubscribe = store.subscribe(() => changes++);
    manual.next(1);
    const first = store.getSnapshot();
    expect(first).toEqual({ kind: 'value', value: 1 });
    expect(store.getSnapshot()).toBe(first);
    manual.next(2);
    expect(store.getSnapshot()).toEqual({ kind: 'value', value: 2 });
    expect(changes).toBe(2);

    unsubscribe();
    expect(manual.listening()).toBe(false);
  });

  it('keeps a failure, which snapshotValue throws', () => {
    const manual = manualSource<number>();
    const store = liveSnapshots(manual.source);
    store.subscribe(() => undefined);
    const failure = new Error('query failed');
    manual.fail(failure);
    expect(store.getSnapshot()).toEqual({ kind: 'error', error: failure });
    expect(() => snapshotValue(store.getSnapshot())).toThrow(failure);
  });

  it('stays waiting without a source (no sync client), and unsubscribing is harmless', () => {
    const store = liveSnapshots<number>(undefined);
    const unsubscribe = store.subscribe(() => {
      throw new Error('never called');
    });
    unsubscribe();
    expect(snapshotValue(store.getSnapshot())).toBeUndefined();
  });

  it('snapshotValue: undefined while waiting, the value once there', () => {
    expect(snapshotValue(WAITING)).toBeUndefined();
    expect(snapshotValue({ kind: 'value', value: 0 })).toBe(0);
  });
});
