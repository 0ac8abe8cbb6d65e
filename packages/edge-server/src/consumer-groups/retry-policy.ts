import { type BackoffOptions, backoffDelay } from '@strata/core';

/** What to do after the `attempts`-th failure of an event. */
export type ConsumerRetryDecision =
  | { readonly kind: 'retry'; readonly delayMs: number }
  | { readonly kind: 'park' };

/**
 * Retry with exponential backoff until `maxAttempts` failures, then park: the event is set aside
 * with its error, so one poison event never stalls its partition forever.
 *
 * @example
 * decideConsumerRetry(1, DEFAULT_CONSUMER_GROUP_SETTINGS); // { kind: 'retry', delayMs: 100 }
 * decideConsumerRetry(5, DEFAULT_CONSUMER_GROUP_SETTINGS); // { kind: 'park' }
 */
export function decideConsumerRetry(
  attempts: number,
  group: { readonly maxAttempts: number; readonly backoff: Omit<BackoffOptions, 'jitter'> },
): ConsumerRetryDecision {
  if (attempts >= group.maxAttempts) return { kind: 'park' };
  // Never jittered: one partition retries one event, not a crowd of clients that failed
  // together, so there is nothing to spread, and a fixed wait keeps `retryAt` predictable.
  const delayMs = backoffDelay(attempts - 1, { ...group.backoff, jitter: 'none' });
  return { kind: 'retry', delayMs };
}
