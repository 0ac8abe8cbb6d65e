import { describe, expect, it } from 'vitest';
import { OUTBOX_RELAY_DEFAULTS } from './outbox-relay.ts';
import type { OutboxMessage } from './outbox-sink.ts';
import { planSettlement, retryDelayAfter } from './settle-deliveries.ts';

const equal = (
  initialDelayMs: number,
  maxDelayMs: number = OUTBOX_RELAY_DEFAULTS.backoff.maxDelayMs,
) => ({ initialDelayMs, maxDelayMs, jitter: 'equal' }) as const;

describe('retryDelayAfter', () => {
  it('doubles per attempt, between half and all of the exponential delay', () => {
    const low = (attempt: number) => retryDelayAfter(attempt, equal(100), () => 0);
    const high = (attempt: number) => retryDelayAfter(attempt, equal(100), () => 0.999999);
    expect([1, 2, 3, 4].map(low)).toEqual([50, 100, 200, 400]);
    expect([1, 2, 3, 4].map(high)).toEqual([99, 199, 399, 799]);
  });

  it('is capped at maxDelayMs, also for absurd attempt counts', () => {
    const backoff = equal(100, 1_000);
    expect(retryDelayAfter(5, backoff, () => 0.999999)).toBe(999);
    expect(retryDelayAfter(5_000, backoff, () => 0.999999)).toBe(999);
    expect(retryDelayAfter(5_000, backoff, () => 0)).toBe(500);
  });

  it('defaults (the relay’s) to a 1 s base and a 5 minute cap, equal jitter', () => {
    const { backoff } = OUTBOX_RELAY_DEFAULTS;
    expect(backoff.jitter).toBe('equal');
    expect(retryDelayAfter(1, backoff, () => 0.999999)).toBe(backoff.initialDelayMs - 1);
    expect(retryDelayAfter(100, backoff, () => 0)).toBe(backoff.maxDelayMs / 2);
  });

  it('spreads messages that failed together', () => {
    const delays = new Set(
      Array.from({ length: 50 }, () => retryDelayAfter(3, equal(1_000), Math.random)),
    );
    expect(delays.size).toBeGreaterThan(10);
    for (const delay of delays) expect(delay).toBeGreaterThanOrEqual(2_000);
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(4_000);
  });

  it('rejects attempts below 1', () => {
    expect(() => retryDelayAfter(0, equal(100), Math.random)).toThrow(RangeError);
    expect(() => retryDelayAfter(1.5, equal(100), Math.random)).toThrow(RangeError);
  });
});

describe('planSettlement', () => {
  const message = (id: string, attempt: number) =>
    ({ id, destination: 'd', tenant: 't', attempt }) as unknown as OutboxMessage;

  it('acks the delivered and schedules the failed by their attempt, held when timed out', () => {
    const settlement = planSettlement(
      [message('1', 1), message('2', 3), message('3', 2)],
      [null, { error: 'Error: boom', timedOut: false }, { error: 'Timeout', timedOut: true }],
      (attempt) => attempt * 100,
    );
    expect(settlement).toEqual({
      acked: ['1'],
      failed: {
        id: ['2', '3'],
        error: ['Error: boom', 'Timeout'],
        delayMs: [300, 200],
        held: [false, true],
      },
    });
  });

  it('has nothing to record for an empty round', () => {
    expect(planSettlement([], [], () => 0)).toEqual({
      acked: [],
      failed: { id: [], error: [], delayMs: [], held: [] },
    });
  });
});
