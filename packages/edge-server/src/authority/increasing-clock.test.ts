import { describe, expect, it } from 'vitest';
import { increasingClock } from './increasing-clock.ts';

describe('increasingClock', () => {
  it('answers the clock while it moves on, and a millisecond more while it does not', () => {
    const times = [1000, 1000, 1000, 1005, 1003, 1010];
    const now = increasingClock(() => new Date(times.shift() as number));
    expect(Array.from({ length: 6 }, () => now().getTime())).toEqual([
      1000, 1001, 1002, 1005, 1006, 1010,
    ]);
  });
});
