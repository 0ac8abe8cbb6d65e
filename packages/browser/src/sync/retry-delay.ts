import { type BackoffOptions, backoffDelay, isStrataError } from '@strata/core';

/**
 * A server's `Retry-After` is honoured up to this long; a longer one (a misconfigured or hostile
 * server) must not park a client for hours. `sync.syncNow()` still skips any wait.
 */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/**
 * How long the sync loops wait after a failure: the usual backoff, but never less than what the
 * server asked for with `Retry-After` (`RATE_LIMITED` 429, `UNAVAILABLE` 503), so a fleet of
 * clients backs off together when the server is overloaded or its database is down. A server
 * that speaks another protocol (`UNSUPPORTED_PROTOCOL`, issue 17) is asked again only after
 * `MAX_RETRY_AFTER_MS`: until the app or the server is updated every attempt fails the same way
 * (the status shows the error meanwhile; `syncNow()` tries at once).
 *
 * @example
 * await wake.sleep(retryDelay(error, failures++, options.backoff, random));
 */
export function retryDelay(
  error: unknown,
  attempt: number,
  backoff: BackoffOptions | undefined,
  random: () => number,
): number {
  const delay = backoffDelay(attempt, backoff, random);
  if (isStrataError(error, 'UNSUPPORTED_PROTOCOL')) return Math.max(delay, MAX_RETRY_AFTER_MS);
  const asked =
    isStrataError(error, 'RATE_LIMITED') || isStrataError(error, 'UNAVAILABLE')
      ? error.retryAfterSeconds
      : undefined;
  if (asked === undefined || !Number.isFinite(asked) || asked <= 0) return delay;
  return Math.max(delay, Math.min(asked * 1000, MAX_RETRY_AFTER_MS));
}
