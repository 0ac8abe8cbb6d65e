import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.ts';

describe('backoffDelay', () => {
  it('doubles the ceiling per attempt up to the maximum', () => {
    const top = () => 0.999999;
    const options = { initialDelayMs: 100, maxDelayMs: 1000 };
    expect([0, 1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, options, top))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
  });

  it('jitters over the whole range, down to no wait', () => {
    expect(backoffDelay(3, { initialDelayMs: 100 }, () => 0)).toBe(0);
    expect(backoffDelay(3, { initialDelayMs: 100 }, () => 0.5)).toBe(400);
  });

  it('equal jitter waits at least half the ceiling; none waits the ceiling', () => {
    const options = { initialDelayMs: 100, maxDelayMs: 1000 } as const;
    expect(backoffDelay(2, { ...options, jitter: 'equal' }, () => 0)).toBe(200);
    expect(backoffDelay(2, { ...options, jitter: 'equal' }, () => 0.999999)).toBe(399);
    expect(backoffDelay(9, { ...options, jitter: 'none' }, () => 0)).toBe(1000);
  });

  it('stays finite however many attempts failed', () => {
    expect(backoffDelay(5000, { maxDelayMs: 30_000 }, () => 0.5)).toBe(15_000);
  });
});
