import { describe, expect, it } from 'vitest';
import { DEFAULT_CONSUMER_GROUP_SETTINGS } from './consumer-group-definition.ts';
import { decideConsumerRetry } from './retry-policy.ts';

describe('decideConsumerRetry', () => {
  it('backs off exponentially, capped, then parks at maxAttempts', () => {
    const group = { maxAttempts: 6, backoff: { initialDelayMs: 100, maxDelayMs: 500 } };
    expect([1, 2, 3, 4, 5, 6].map((attempts) => decideConsumerRetry(attempts, group))).toEqual([
      { kind: 'retry', delayMs: 100 },
      { kind: 'retry', delayMs: 200 },
      { kind: 'retry', delayMs: 400 },
      { kind: 'retry', delayMs: 500 },
      { kind: 'retry', delayMs: 500 },
      { kind: 'park' },
    ]);
  });

  it('parks at once when one attempt is all there is', () => {
    expect(decideConsumerRetry(1, { ...DEFAULT_CONSUMER_GROUP_SETTINGS, maxAttempts: 1 })).toEqual({
      kind: 'park',
    });
  });

  it('defaults to five attempts, 100 ms doubling, capped at 30 s', () => {
    expect(DEFAULT_CONSUMER_GROUP_SETTINGS).toMatchObject({
      maxAttempts: 5,
      backoff: { initialDelayMs: 100, maxDelayMs: 30_000 },
    });
    expect(decideConsumerRetry(1, DEFAULT_CONSUMER_GROUP_SETTINGS)).toEqual({
      kind: 'retry',
      delayMs: 100,
    });
  });
});
