import { InternalError, RateLimitedError, UnavailableError } from '@strata/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createReachabilityProbe, probedConnection } from './reachability-probe.ts';
import type { SharedConnection } from './shared-connection.ts';
import { INITIAL_CONNECTION } from './sync-status.ts';
import type { ReadyAnswer } from './sync-transport.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A probe whose server answers from `answers` in turn (the last one repeats). */
function setUp(answers: ReadyAnswer[], { online = (): boolean => true } = {}) {
  const stop = new AbortController();
  const asked: number[] = [];
  let backs = 0;
  const probe = createReachabilityProbe({
    probe: async () => {
      asked.push(Date.now());
      return answers.length > 1 ? (answers.shift() as ReadyAnswer) : (answers[0] as ReadyAnswer);
    },
    onBack: () => {
      backs++;
    },
    intervalMs: 1000,
    random: () => 0.5, // no jitter
    online,
    signal: stop.signal,
  });
  return { probe, asked, backs: () => backs, stop };
}

const up: ReadyAnswer = { up: true };
const down: ReadyAnswer = { up: false };

describe('createReachabilityProbe', () => {
  it('after a network failure, wakes the loops at the first probe that reaches the server', async () => {
    const { probe, asked, backs } = setUp([up]);
    probe.failed(new UnavailableError('The sync server could not be reached'));
    await vi.advanceTimersByTimeAsync(999);
    expect(asked).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(asked).toHaveLength(1);
    expect(backs()).toBe(1);
    // The episode ended: no more probes.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(asked).toHaveLength(1);
  });

  it('asks once a second while the server is down, and wakes the loops when it answers', async () => {
    const { probe, asked, backs } = setUp([down, down, down, down, up]);
    probe.failed(new InternalError('The sync server answered 500'));
    await vi.advanceTimersByTimeAsync(4_000);
    expect(asked).toHaveLength(4);
    expect(backs()).toBe(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(asked).toHaveLength(5);
    expect(backs()).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(asked).toHaveLength(5);
  });

  it('a server that answers while one route fails (a 500) keeps the backoff: one probe, no wake', async () => {
    const { probe, asked, backs } = setUp([up]);
    probe.failed(new InternalError('The sync server answered 500'));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(asked).toHaveLength(1);
    expect(backs()).toBe(0);
  });

  it('a wake followed by another failure spends the trust: a second 503 needs the server to go and return', async () => {
    const { probe, asked, backs } = setUp([up]);
    probe.failed(new UnavailableError('503'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(backs()).toBe(1);
    // The retry failed the same way (a readiness route that works while pushes do not).
    probe.failed(new UnavailableError('503'));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(asked).toHaveLength(2);
    expect(backs()).toBe(1);
    // A success gives the trust back.
    probe.succeeded();
    probe.failed(new UnavailableError('503'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(backs()).toBe(2);
  });

  it("waits for the server's Retry-After before the first probe and between probes", async () => {
    const { probe, asked, backs } = setUp([{ up: false, retryAfterSeconds: 3 }, up]);
    probe.failed(new UnavailableError('database down', { retryAfterSeconds: 5 }));
    await vi.advanceTimersByTimeAsync(4_999);
    expect(asked).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(asked).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2_999);
    expect(asked).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(asked).toHaveLength(2);
    expect(backs()).toBe(1);
  });

  it('a rate limit is not an outage: after its Retry-After, an answering server does not wake the loops', async () => {
    const { probe, asked, backs } = setUp([up]);
    probe.failed(new RateLimitedError('slow down', 2));
    await vi.advanceTimersByTimeAsync(1_999);
    expect(asked).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(asked).toHaveLength(1);
    expect(backs()).toBe(0);
  });

  it('sends nothing while the browser is offline', async () => {
    let online = false;
    const { probe, asked, backs } = setUp([up], { online: () => online });
    probe.failed(new UnavailableError('offline'));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(asked).toHaveLength(0);
    online = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(asked).toHaveLength(1);
    expect(backs()).toBe(1);
  });

  it('a success ends the probing, and failures during an episode start no second one', async () => {
    const { probe, asked } = setUp([down]);
    probe.failed(new UnavailableError('down'));
    probe.failed(new UnavailableError('down again'));
    await vi.advanceTimersByTimeAsync(3_000);
    expect(asked).toHaveLength(3);
    probe.succeeded();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(asked).toHaveLength(3);
  });

  it('a probe that throws counts as down; stopping sync ends the probing', async () => {
    const stop = new AbortController();
    let asked = 0;
    const probe = createReachabilityProbe({
      probe: async () => {
        asked++;
        throw new TypeError('boom');
      },
      onBack: () => expect.unreachable('the server never answered'),
      random: () => 0.5,
      online: () => true,
      signal: stop.signal,
    });
    probe.failed(new UnavailableError('down'));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(asked).toBe(2);
    stop.abort();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(asked).toBe(2);
    probe.failed(new UnavailableError('after stop'));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(asked).toBe(2);
  });
});

describe('probedConnection', () => {
  it('tells the probe of failures and of successes (lastError cleared), not of other changes', async () => {
    const seen: string[] = [];
    const shared: SharedConnection = {
      current: () => INITIAL_CONNECTION,
      share: async () => undefined,
      fail: async () => undefined,
    };
    const connection = probedConnection(shared, {
      failed: () => seen.push('failed'),
      succeeded: () => seen.push('succeeded'),
    });
    await connection.fail(new Error('x'));
    await connection.share({ connected: false });
    await connection.share({ connected: true, lastError: undefined });
    expect(seen).toEqual(['failed', 'succeeded']);
    expect(connection.current()).toBe(INITIAL_CONNECTION);
  });
});
