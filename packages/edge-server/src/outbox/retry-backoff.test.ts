import { describe, expect, it } from 'vitest';
import { RETRY_BACKOFF_DEFAULTS, retryDelay } from './retry-backoff.ts';

describe('retryDelay', () => {
  it('doubles per attempt, between half and all of the exponential delay', () => {
    const low = (attempt: number) => retryDelay(attempt, { baseMs: 100, random: () => 0 });
    const high = (attempt: number) => retryDelay(attempt, { baseMs: 100, random: () => 0.999999 });
    expect([1, 2, 3, 4].map(low)).toEqual([50, 100, 200, 400]);
    expect([1, 2, 3, 4].map(high)).toEqual([99, 199, 399, 799]);
  });

  it('is capped at maxMs, also for absurd attempt counts', () => {
    const options = { baseMs: 100, maxMs: 1_000, random: () => 0.999999 };
    expect(retryDelay(5, options)).toBe(999);
    expect(retryDelay(5_000, options)).toBe(999);
    expect(retryDelay(5_000, { ...options, random: () => 0 })).toBe(500);
  });

  it('defaults to a 1 s base and a 5 minute cap', () => {
    expect(retryDelay(1, { random: () => 0.999999 })).toBe(RETRY_BACKOFF_DEFAULTS.baseMs - 1);
    expect(retryDelay(100, { random: () => 0 })).toBe(RETRY_BACKOFF_DEFAULTS.maxMs / 2);
  });

  it('spreads messages that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => retryDelay(3, { baseMs: 1_000 })));
    expect(delays.size).toBeGreaterThan(10);
    for (const delay of delays) expect(delay).toBeGreaterThanOrEqual(2_000);
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(4_000);
  });

  it('rejects attempts below 1 and negative delays', () => {
    expect(() => retryDelay(0)).toThrow(RangeError);
    expect(() => retryDelay(1.5)).toThrow(RangeError);
    expect(() => retryDelay(1, { baseMs: -1 })).toThrow(RangeError);
  });
});
