import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBackgroundLoop } from './background-loop.ts';

/** A loop whose rounds say "more work" as `busy` says, on a fake clock. */
function counted(busy: (round: number) => boolean | Error) {
  let rounds = 0;
  const errors: unknown[] = [];
  const loop = createBackgroundLoop({
    round: async () => {
      rounds += 1;
      const outcome = busy(rounds);
      if (outcome instanceof Error) throw outcome;
      return outcome;
    },
    idleMs: 1_000,
    onError: (error) => errors.push(error),
  });
  return { loop, errors, rounds: () => rounds };
}

describe('createBackgroundLoop', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs back to back while rounds say more work is waiting, then sleeps idleMs', async () => {
    const { loop, rounds } = counted((round) => round < 3);
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(rounds()).toBe(3);
    await vi.advanceTimersByTimeAsync(999);
    expect(rounds()).toBe(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(rounds()).toBe(4);
    await loop.stop();
  });

  it('wakes early when told new work arrived, also before it fell asleep', async () => {
    const { loop, rounds } = counted(() => false);
    loop.wake(); // remembered: the first sleep ends at once
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(rounds()).toBe(2);
    loop.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(rounds()).toBe(3);
    await loop.stop();
  });

  it('reports a failed round and sleeps as if idle, instead of spinning', async () => {
    const { loop, rounds, errors } = counted(() => new Error('database down'));
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(rounds()).toBe(1);
    expect(errors).toEqual([new Error('database down')]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(rounds()).toBe(2);
    await loop.stop();
  });

  it('stop() ends the sleep, waits for the round in progress, and a second start() is ignored', async () => {
    let finish: () => void = () => undefined;
    let rounds = 0;
    const loop = createBackgroundLoop({
      round: () => {
        rounds += 1;
        return new Promise<boolean>((resolve) => {
          finish = () => resolve(false);
        });
      },
      idleMs: 60_000,
      onError: () => undefined,
    });
    loop.start();
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(rounds).toBe(1);
    let stopped = false;
    const stopping = loop.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    finish();
    await stopping;
    expect(rounds).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
