import { describe, expect, it } from 'vitest';
import { DEFAULT_CONSUMER_RETRY_POLICY, decideConsumerRetry } from './retry-policy.ts';

describe('decideConsumerRetry', () => {
  it('backs off exponentially, capped, then parks at maxAttempts', () => {
    const policy = { maxAttempts: 6, retryBaseMs: 100, retryMaxMs: 500 };
    expect([1, 2, 3, 4, 5, 6].map((attempts) => decideConsumerRetry(attempts, policy))).toEqual([
      { kind: 'retry', delayMs: 100 },
      { kind: 'retry', delayMs: 200 },
      { kind: 'retry', delayMs: 400 },
      { kind: 'retry', delayMs: 500 },
      { kind: 'retry', delayMs: 500 },
      { kind: 'park' },
    ]);
  });

  it('parks at once when one attempt is all there is', () => {
    expect(decideConsumerRetry(1, { ...DEFAULT_CONSUMER_RETRY_POLICY, maxAttempts: 1 })).toEqual({
      kind: 'park',
    });
  });
});
