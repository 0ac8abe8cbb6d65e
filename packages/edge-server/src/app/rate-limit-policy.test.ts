import { describe, expect, it } from 'vitest';
import {
  checkRateLimitRule,
  isRefilled,
  type TokenBucket,
  takeToken,
} from './rate-limit-policy.ts';

const rule = { requests: 3, windowMs: 3000 }; // one token a second

function run(times: readonly number[]) {
  let bucket: TokenBucket | undefined;
  return times.map((now) => {
    const decision = takeToken(bucket, rule, now);
    bucket = decision.bucket;
    return decision;
  });
}

describe('takeToken (token bucket)', () => {
  it('lets a new key burst up to the limit, then refuses with the time until the next token', () => {
    const decisions = run([0, 0, 0, 0]);
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0]);
    expect(decisions[3]?.retryAfterMs).toBe(1000);
  });

  it('refills at the sustained rate, never above the limit', () => {
    const decisions = run([0, 0, 0, 500, 1000, 1000, 100_000, 100_000, 100_000, 100_000]);
    expect(decisions.map((d) => d.allowed)).toEqual([
      true,
      true,
      true,
      false, // half a token back
      true, // one token back
      false,
      true, // refilled to 3, not to 99
      true,
      true,
      false,
    ]);
    expect(decisions[3]?.retryAfterMs).toBe(500);
  });

  it('a clock going backwards refills nothing', () => {
    const decisions = run([10_000, 10_000, 10_000, 5_000]);
    expect(decisions[3]?.allowed).toBe(false);
  });

  it('refuses rules that are not positive', () => {
    expect(() => checkRateLimitRule({ requests: 0, windowMs: 1000 }, 'perPrincipal')).toThrow(
      /perPrincipal.requests/,
    );
    expect(() => checkRateLimitRule({ requests: 1.5, windowMs: 1000 }, 'x')).toThrow(RangeError);
    expect(() => checkRateLimitRule({ requests: 5, windowMs: 0 }, 'x')).toThrow(/windowMs/);
    expect(() => checkRateLimitRule({ requests: 5, windowMs: 60_000 }, 'x')).not.toThrow();
  });
});

describe('isRefilled', () => {
  it('is true once a bucket is back to a full burst, not before', () => {
    const empty = { tokens: 0, updatedAt: 1000 };
    expect(isRefilled(empty, rule, 3999)).toBe(false);
    expect(isRefilled(empty, rule, 4000)).toBe(true);
    expect(isRefilled({ tokens: 3, updatedAt: 5000 }, rule, 5000)).toBe(true);
    // A clock that went back counts no refill.
    expect(isRefilled({ tokens: 2, updatedAt: 5000 }, rule, 1000)).toBe(false);
  });
});
