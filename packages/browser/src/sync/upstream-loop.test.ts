import {
  createWakeSignal,
  InternalError,
  LogDivergedError,
  NotFoundError,
  UnavailableError,
} from '@strata/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runUpstreamLoop, type UpstreamLoopOptions } from './upstream-loop.ts';

const backoff = { initialDelayMs: 100, maxDelayMs: 10_000, jitter: 'none' } as const;

/** An upstream loop whose catch-ups and streams the test scripts, on the fake clock. */
function setUp(overrides: Partial<UpstreamLoopOptions> = {}) {
  const stopping = new AbortController();
  const wake = createWakeSignal();
  const catchUps: number[] = [];
  // Each catch-up takes the next scripted outcome; with none left it reaches cursor `c<n>`.
  const outcomes: (Error | undefined)[] = [];
  let endStream: (error?: Error) => void = () => undefined;
  const options: UpstreamLoopOptions = {
    catchUp: vi.fn(async () => {
      catchUps.push(Date.now());
      const failure = outcomes.shift();
      if (failure !== undefined) throw failure;
      return `c${catchUps.length}`;
    }),
    follow: vi.fn(
      () =>
        new Promise<void>((resolve, reject) => {
          endStream = (error) => (error === undefined ? resolve() : reject(error));
        }),
    ),
    live: true,
    pollIntervalMs: 5000,
    wake,
    connection: { share: vi.fn(async () => undefined), fail: vi.fn(async () => undefined) },
    onCatchUpEnded: vi.fn(),
    backoff,
    random: () => 0.5,
    signal: stopping.signal,
    ...overrides,
  };
  const stop = async (running: Promise<void>) => {
    stopping.abort();
    wake.wake();
    endStream();
    await running;
  };
  return {
    options,
    outcomes,
    catchUps,
    wake,
    stop,
    endStream: (error?: Error) => endStream(error),
  };
}

describe('runUpstreamLoop', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('catches up, follows from the cursor reached, and catches up again when the stream ends', async () => {
    const { options, stop, endStream } = setUp();
    const running = runUpstreamLoop(options);
    await vi.advanceTimersByTimeAsync(0);
    expect(options.follow).toHaveBeenLastCalledWith('c1');
    expect(options.onCatchUpEnded).toHaveBeenCalledTimes(1);

    endStream();
    await vi.advanceTimersByTimeAsync(0);
    expect(options.connection.share).toHaveBeenCalledWith({ connected: false });
    expect(options.follow).toHaveBeenLastCalledWith('c2');
    await stop(running);
  });

  it('polls when not live: every poll interval, or at once when woken', async () => {
    const { options, catchUps, wake, stop } = setUp({ live: false });
    const running = runUpstreamLoop(options);
    await vi.advanceTimersByTimeAsync(12_000);
    expect(catchUps).toEqual([0, 5000, 10_000]);
    wake.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(catchUps).toEqual([0, 5000, 10_000, 12_000]);
    expect(options.follow).not.toHaveBeenCalled();
    await stop(running);
  });

  it('after a failure shares it and retries after a growing backoff; a success resets it', async () => {
    const { options, outcomes, catchUps, stop, endStream } = setUp();
    const failure = new InternalError('boom');
    outcomes.push(failure, failure, failure);
    const running = runUpstreamLoop(options);
    await vi.advanceTimersByTimeAsync(1000);
    // Failed at 0, 100 and 300; the fourth catch-up (at 700) succeeded.
    expect(catchUps).toEqual([0, 100, 300, 700]);
    expect(options.connection.fail).toHaveBeenCalledTimes(3);
    expect(options.connection.fail).toHaveBeenCalledWith(failure);
    expect(options.connection.share).toHaveBeenCalledWith({ connected: false });
    // Pushing waits for the first catch-up or its failure: told each time.
    expect(options.onCatchUpEnded).toHaveBeenCalledTimes(4);

    outcomes.push(failure);
    endStream();
    await vi.advanceTimersByTimeAsync(100);
    expect(catchUps).toEqual([0, 100, 300, 700, 1000, 1100]);
    await stop(running);
  });

  it("waits at least the server's Retry-After", async () => {
    const { options, outcomes, catchUps, stop } = setUp();
    outcomes.push(new UnavailableError('database down', { retryAfterSeconds: 2 }));
    const running = runUpstreamLoop(options);
    await vi.advanceTimersByTimeAsync(1999);
    expect(catchUps).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(catchUps).toEqual([0, 2000]);
    await stop(running);
  });

  it('polls for good once the server says it has no subscriptions (NOT_FOUND)', async () => {
    const { options, catchUps, stop, endStream } = setUp();
    const running = runUpstreamLoop(options);
    await vi.advanceTimersByTimeAsync(0);
    endStream(new NotFoundError());
    await vi.advanceTimersByTimeAsync(100 + 5000);
    expect(catchUps).toEqual([0, 100, 5100]);
    expect(options.follow).toHaveBeenCalledTimes(1);
    await stop(running);
  });

  it('ends on stop, without sharing the failure the stop caused', async () => {
    const { options, stop } = setUp({
      follow: () => Promise.reject(new Error('aborted')),
    });
    const stopping = new AbortController();
    const running = runUpstreamLoop({ ...options, signal: stopping.signal });
    stopping.abort();
    await vi.advanceTimersByTimeAsync(0);
    await running;
    expect(options.connection.fail).not.toHaveBeenCalled();
    await stop(running);
  });

  it('LOG_DIVERGED re-bootstraps and catches up at once; a second divergence before a success waits the backoff', async () => {
    const onDiverged = vi.fn(async () => undefined);
    const { options, outcomes, catchUps, stop, endStream } = setUp({ onDiverged });
    const diverged = () => new LogDivergedError('reset');
    outcomes.push(diverged(), diverged(), undefined, diverged());
    const running = runUpstreamLoop(options);
    await vi.advanceTimersByTimeAsync(0);
    // Re-bootstrapped, caught up again at once, diverged again: that one waits the backoff.
    expect(onDiverged).toHaveBeenCalledTimes(1);
    expect(catchUps).toEqual([0, 0]);
    expect(options.connection.fail).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(catchUps).toEqual([0, 0, 100]);
    expect(options.follow).toHaveBeenCalledTimes(1);
    // That catch-up succeeded: a divergence after it (at the reconnect) re-bootstraps at once.
    endStream();
    await vi.advanceTimersByTimeAsync(0);
    expect(onDiverged).toHaveBeenCalledTimes(2);
    expect(catchUps).toEqual([0, 0, 100, 100, 100]);
    expect(options.follow).toHaveBeenCalledTimes(2);
    await stop(running);
  });
});
