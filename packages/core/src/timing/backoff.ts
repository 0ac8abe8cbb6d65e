/**
 * How the wait is spread below its ceiling: `full` uniformly from 0 (clients that failed
 * together, e.g. at a server restart, come back apart), `equal` from half of it (never retries
 * at once), `none` waits the ceiling itself.
 */
export type Jitter = 'full' | 'equal' | 'none';

/** How long to wait between retries of something failing. */
export interface BackoffOptions {
  /** The ceiling of the first wait. Defaults to 250 ms. */
  readonly initialDelayMs?: number;
  /** The ceiling never grows past this. Defaults to 30 s. */
  readonly maxDelayMs?: number;
  /** Defaults to `full`. */
  readonly jitter?: Jitter;
}

/**
 * Exponential backoff: the ceiling is min(max, initial × 2^attempt), `attempt` counting from 0,
 * and the wait is jittered below it. There is no attempt limit: callers decide when to give up
 * (the sync client never does; a client offline for a week still syncs when it returns).
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
  switch (options.jitter ?? 'full') {
    case 'full':
      return Math.floor(random() * ceiling);
    case 'equal':
      return Math.floor(ceiling / 2 + random() * (ceiling / 2));
    case 'none':
      return ceiling;
  }
}
