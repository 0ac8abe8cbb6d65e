/** How long to wait between retries of a failing sync request. */
export interface BackoffOptions {
  /** The ceiling of the first wait. Defaults to 250 ms. */
  readonly initialDelayMs?: number;
  /** The ceiling never grows past this. Defaults to 30 s. */
  readonly maxDelayMs?: number;
}

/**
 * Exponential backoff with full jitter: a uniform wait between 0 and min(max, initial × 2^attempt).
 * The jitter spreads clients that failed together (a server restart) so they do not come back
 * together; there is no attempt limit, a client offline for a week still syncs when it returns.
 *
 * @example
 * await sleep(backoffDelay(failures++, { initialDelayMs: 250, maxDelayMs: 30_000 }));
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const initial = options.initialDelayMs ?? 250;
  const max = options.maxDelayMs ?? 30_000;
  // 2 ** attempt overflows to Infinity after ~1000 attempts; min() keeps the ceiling finite.
  const ceiling = Math.min(max, initial * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}
