import { backoffDelay } from '@strata/core';

/** Options of `retryDelay`. */
export interface RetryBackoffOptions {
  /** Delay after the first failed attempt, before jitter. Default 1,000 ms. */
  readonly baseMs?: number;
  /** Upper bound of any delay. Default 300,000 ms (5 minutes). */
  readonly maxMs?: number;
  /** Random number in [0, 1); injectable so tests are deterministic. Default `Math.random`. */
  readonly random?: () => number;
}

/** Defaults of `retryDelay`. */
export const RETRY_BACKOFF_DEFAULTS = { baseMs: 1_000, maxMs: 300_000 } as const;

/**
 * How long to wait before retrying after failed attempt number `attempt` (1-based): exponential
 * (`baseMs` doubled per attempt, capped at `maxMs`) with "equal jitter", a random delay between
 * half and all of it. The jitter spreads out messages that failed together (a receiver that was
 * down for a minute) so they do not all come back at once; keeping half of the delay keeps the
 * backoff from collapsing to zero. Pure (core's `backoffDelay` with equal jitter).
 *
 * @example
 * retryDelay(1); // 500..1000 ms
 * retryDelay(4, { baseMs: 100 }); // 400..800 ms
 */
export function retryDelay(attempt: number, options: RetryBackoffOptions = {}): number {
  const {
    baseMs = RETRY_BACKOFF_DEFAULTS.baseMs,
    maxMs = RETRY_BACKOFF_DEFAULTS.maxMs,
    random = Math.random,
  } = options;
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be an integer >= 1, got ${attempt}`);
  }
  if (!(baseMs >= 0 && maxMs >= 0)) {
    throw new RangeError(`baseMs and maxMs must be >= 0, got ${baseMs} and ${maxMs}`);
  }
  return backoffDelay(
    attempt - 1,
    { initialDelayMs: baseMs, maxDelayMs: maxMs, jitter: 'equal' },
    random,
  );
}
