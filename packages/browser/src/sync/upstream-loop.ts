import {
  type BackoffOptions,
  isStrataError,
  type LogDivergedError,
  type WakeSignal,
} from '@strata/core';
import { retryDelay } from './retry-delay.ts';
import type { SharedConnection } from './shared-connection.ts';

export interface UpstreamLoopOptions {
  /** Brings the client up to date; returns the cursor reached (see `catchUp`). */
  readonly catchUp: () => Promise<string | undefined>;
  /** Follows the live stream after the cursor until it ends (see `follow`). */
  readonly follow: (after: string | undefined) => Promise<void>;
  /** Follow live after each catch-up; false polls. A server without subscriptions turns it off. */
  readonly live: boolean;
  /** The wait between catch-ups when polling. */
  readonly pollIntervalMs: number;
  /** The loop sleeps on it (poll interval, backoff); waking it catches up now. */
  readonly wake: WakeSignal;
  readonly connection: Pick<SharedConnection, 'share' | 'fail'>;
  /** Called after every catch-up and every failed attempt (pushing waits for the first). */
  readonly onCatchUpEnded: () => void;
  /**
   * The server's log is not the one this client read (`LOG_DIVERGED`): re-bootstrap, then the
   * loop catches up at once. A second divergence before a catch-up succeeds waits the backoff
   * (two servers with different databases behind one URL must not mean a re-bootstrap loop).
   */
  readonly onDiverged?: (error: LogDivergedError) => Promise<void>;
  /** Between failed attempts; retries never stop. */
  readonly backoff: BackoffOptions | undefined;
  readonly random: () => number;
  /** Ends the loop. */
  readonly signal: AbortSignal;
}

/**
 * Keeps the client following the server until `signal` aborts: catch up, then follow live (or
 * poll), and after a failure share it and retry after a backoff (at least the server's
 * `Retry-After`).
 *
 * @example
 * await runUpstreamLoop({ catchUp, follow, live: true, pollIntervalMs: 5000, wake, ... });
 */
export async function runUpstreamLoop(options: UpstreamLoopOptions): Promise<void> {
  const { connection, signal, wake } = options;
  let live = options.live;
  let justRebootstrapped = false;
  for (let failures = 0; !signal.aborted; ) {
    try {
      const cursor = await options.catchUp();
      options.onCatchUpEnded();
      failures = 0;
      justRebootstrapped = false;
      if (live) {
        await options.follow(cursor);
        await connection.share({ connected: false });
      } else {
        await wake.sleep(options.pollIntervalMs);
      }
    } catch (caught) {
      if (signal.aborted) return;
      let error = caught;
      if (isStrataError(error, 'LOG_DIVERGED') && options.onDiverged !== undefined) {
        if (!justRebootstrapped) {
          justRebootstrapped = true;
          try {
            await options.onDiverged(error);
            continue;
          } catch (failed) {
            error = failed;
          }
        }
      }
      // A server without subscriptions: poll instead.
      if (isStrataError(error, 'NOT_FOUND')) live = false;
      options.onCatchUpEnded();
      await connection.share({ connected: false }).catch(() => undefined);
      await connection.fail(error);
      await wake.sleep(retryDelay(error, failures++, options.backoff, options.random));
    }
  }
}
