import { backoffDelay } from '@strata/core';

/** How a consumer group retries an event whose handler failed, fixed when the group is created. */
export interface ConsumerRetryPolicy {
  /** Attempts in all (the first delivery included) before the event is parked. */
  readonly maxAttempts: number;
  /** Delay before the second attempt; each further one doubles it. */
  readonly retryBaseMs: number;
  /** Longest delay between two attempts. */
  readonly retryMaxMs: number;
}

/** Five attempts, 100 ms, 200 ms, 400 ms and 800 ms apart: about 1.5 s before an event is parked. */
export const DEFAULT_CONSUMER_RETRY_POLICY: ConsumerRetryPolicy = {
  maxAttempts: 5,
  retryBaseMs: 100,
  retryMaxMs: 30_000,
};

/** What to do after the `attempts`-th failure of an event. */
export type ConsumerRetryDecision =
  | { readonly kind: 'retry'; readonly delayMs: number }
  | { readonly kind: 'park' };

/**
 * Retry with exponential backoff until `maxAttempts` failures, then park: the event is set aside
 * with its error, so one poison event never stalls its partition forever.
 *
 * @example
 * decideConsumerRetry(1, DEFAULT_CONSUMER_RETRY_POLICY); // { kind: 'retry', delayMs: 100 }
 * decideConsumerRetry(5, DEFAULT_CONSUMER_RETRY_POLICY); // { kind: 'park' }
 */
export function decideConsumerRetry(
  attempts: number,
  policy: ConsumerRetryPolicy,
): ConsumerRetryDecision {
  if (attempts >= policy.maxAttempts) return { kind: 'park' };
  const delayMs = backoffDelay(attempts - 1, {
    initialDelayMs: policy.retryBaseMs,
    maxDelayMs: policy.retryMaxMs,
    jitter: 'none',
  });
  return { kind: 'retry', delayMs };
}
