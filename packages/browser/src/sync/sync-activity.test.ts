import { describe, expect, it } from 'vitest';
import { createSyncActivity, type SyncActivityEntry } from './sync-activity.ts';

/** A clock the test moves by hand. */
function manualClock(start = Date.parse('2026-12-03T12:00:00.000Z')) {
  let now = start;
  return {
    clock: () => new Date(now),
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('createSyncActivity', () => {
  it('keeps the newest entries up to its capacity, oldest first, with seq showing what was dropped', () => {
    const { clock, advance } = manualClock();
    const activity = createSyncActivity({ capacity: 3, clock });
    for (let i = 1; i <= 7; i++) {
      activity.record('push', `push ${i}`);
      advance(10);
    }
    const entries = activity.entries();
    expect(entries.map((entry) => [entry.seq, entry.detail])).toEqual([
      [5, 'push 5'],
      [6, 'push 6'],
      [7, 'push 7'],
    ]);
    expect(entries[0]?.at).toBe('2026-12-03T12:00:00.040Z');
  });

  it('adds up live events into one entry while they keep coming within the coalescing time', () => {
    const { clock, advance } = manualClock();
    const activity = createSyncActivity({ capacity: 10, clock, coalesceMs: 1000 });
    for (let i = 0; i < 1000; i++) {
      activity.received(1);
      advance(1);
    }
    // A gap longer than the window starts a new entry; another kind in between too.
    advance(2000);
    activity.received(2);
    activity.record('disconnect', 'live stream closed');
    activity.received(1);
    expect(activity.entries().map(({ kind, count, detail }) => ({ kind, count, detail }))).toEqual([
      { kind: 'live', count: 1000, detail: '1000 events received live' },
      { kind: 'live', count: 2, detail: '2 events received live' },
      { kind: 'disconnect', count: undefined, detail: 'live stream closed' },
      { kind: 'live', count: 1, detail: '1 event received live' },
    ]);
    activity.received(0);
    expect(activity.entries()).toHaveLength(4);
  });

  it('coalesces into the newest entry also once the ring has wrapped', () => {
    const { clock } = manualClock();
    const activity = createSyncActivity({ capacity: 2, clock });
    activity.record('pull', 'a');
    activity.record('pull', 'b');
    activity.record('pull', 'c');
    activity.received(3);
    activity.received(4);
    expect(activity.entries().map((entry) => entry.detail)).toEqual([
      'c',
      '7 events received live',
    ]);
  });

  it('delivers the current entries on subscribe and a new array on every change, until unsubscribed', () => {
    const activity = createSyncActivity();
    activity.record('leader', 'this tab syncs');
    const seen: (readonly SyncActivityEntry[])[] = [];
    const subscription = activity.live.subscribe((entries) => seen.push(entries));
    activity.record('connect', 'following the server live');
    subscription.unsubscribe();
    activity.record('disconnect', 'live stream closed');
    expect(seen.map((entries) => entries.map((entry) => entry.kind))).toEqual([
      ['leader'],
      ['leader', 'connect'],
    ]);
    expect(seen[0]).not.toBe(seen[1]);
    // Between changes the same array: a React external store must see a stable snapshot.
    expect(activity.entries()).toBe(activity.entries());
  });
});
