/**
 * Subscription responses (`GET /v1/subscribe`, `GET /v2/subscribe`): each takes one of the
 * instance's subscription slots (or answers `RATE_LIMITED` before any stream starts), then
 * streams the subscription through a bounded writer (issue 12, item 4 and the open-subscription caps). Kept apart from `createSyncApp` so
 * the route stays a few lines.
 */
import {
  RateLimitedError,
  SUBSCRIPTION_FEATURES_HEADER,
  type SubscriptionMessage,
} from '@strata/core';
import type { SyncLimits } from '../app/limits.ts';
import {
  type BoundedSseWriter,
  createBoundedSseWriter,
  SSE_HEADERS,
} from './bounded-sse-writer.ts';
import { createSubscriptionSlots, principalSlotKey } from './subscription-slots.ts';
import { type SubscriptionStreamOptions, streamSubscription } from './subscription-stream.ts';

/** Seconds a refused subscriber is asked to wait: slots free up as other subscribers leave. */
export const SUBSCRIPTION_RETRY_AFTER_SECONDS = 5;

/** What `createSubscriptionResponder` needs from the app. */
export interface SubscriptionResponderOptions {
  readonly limits: Pick<
    SyncLimits,
    | 'maxSubscriptionBufferBytes'
    | 'subscriptionCloseGraceMs'
    | 'subscriptionStallMs'
    | 'maxSubscriptionsPerPrincipal'
    | 'maxSubscriptions'
  >;
  /** Where a subscription that fails while streaming is reported (its stream just ends). */
  readonly onError: (error: unknown) => void;
}

/** One subscription's request: who asks, and the stream's own options. */
export interface SubscriptionRequest
  extends Omit<SubscriptionStreamOptions, 'maxBacklogBytes' | 'accessChangedMessage'> {
  readonly request: Request;
  readonly principal: { readonly tenant: string; readonly subject: string };
}

/** One SSE subscription of any protocol: who asks, where the client resumes, what streams it. */
export interface SseSubscription {
  readonly request: Request;
  readonly principal: { readonly tenant: string; readonly subject: string };
  /** The SSE id the client resumes from if it gets no message with an id. */
  readonly initialId: string | undefined;
  /** Whether a slow reader's stream ends with a `closing` message (else it just ends). */
  readonly closing: boolean;
  /** Streams into `writer`, holding at most `maxBacklogBytes` of live events for it. */
  run(writer: BoundedSseWriter, maxBacklogBytes: number): Promise<void>;
}

/** Answers an SSE subscription, counted against the instance's one set of slots. */
export type SseResponder = (subscription: SseSubscription) => Response;

/**
 * The instance's SSE responder: one set of slots for all its subscriptions (`/v1/subscribe`
 * and `/v2/subscribe` alike). A refused slot is `RATE_LIMITED` before any stream starts.
 *
 * @example
 * const sse = createSseResponder({ limits, onError: console.error });
 * return sse({ request, principal, initialId: after, closing: true, run: (writer, max) => ... });
 */
export function createSseResponder(options: SubscriptionResponderOptions): SseResponder {
  const { limits } = options;
  const slots = createSubscriptionSlots({
    maxPerPrincipal: limits.maxSubscriptionsPerPrincipal,
    maxTotal: limits.maxSubscriptions,
  });
  return ({ request, principal, initialId, closing, run }) => {
    const slot = slots.acquire(principalSlotKey(principal));
    if ('refused' in slot) {
      throw new RateLimitedError(
        slot.refused === 'principal'
          ? `At most ${limits.maxSubscriptionsPerPrincipal} subscriptions may be open at once per principal`
          : 'This server holds as many subscriptions as it can',
        SUBSCRIPTION_RETRY_AFTER_SECONDS,
      );
    }
    const writer = createBoundedSseWriter({
      maxBufferedBytes: limits.maxSubscriptionBufferBytes,
      closeGraceMs: limits.subscriptionCloseGraceMs,
      stallMs: limits.subscriptionStallMs,
      ...(initialId === undefined ? {} : { initialId }),
      ...(closing ? { overflowMessage: closingMessage } : {}),
    });
    // Runtimes that do not cancel the body when the client leaves still abort the request; a
    // client gone while the route still checked its rules aborted it already.
    if (request.signal.aborted) writer.close();
    else request.signal.addEventListener('abort', () => writer.close(), { once: true });
    // The slot is the client's connection: free once the stream has ended, even while `run`
    // still waits on something (a scope rule late to answer) before it notices.
    writer.onEnded(() => slot.release());
    void run(writer, limits.maxSubscriptionBufferBytes)
      .catch(options.onError)
      .finally(() => {
        writer.close(); // the client reconnects with the last id it got
        slot.release();
      });
    return new Response(writer.body, { headers: SSE_HEADERS });
  };
}

/**
 * `GET /v1/subscribe` on an instance's SSE responder (its own one when none is given).
 *
 * @example
 * const respond = createSubscriptionResponder({ limits, onError: console.error });
 * app.get('/v1/subscribe', (c) => respond({ request: c.req.raw, principal, store, feed, after, heartbeatMs }));
 */
export function createSubscriptionResponder(
  options: SubscriptionResponderOptions,
  sse: SseResponder = createSseResponder(options),
): (subscription: SubscriptionRequest) => Response {
  return ({ request, principal, ...stream }) => {
    // Older clients do not know the closing message, or its later reasons: only those that say
    // so get them (SUBSCRIPTION_FEATURES_HEADER).
    const features = (request.headers.get(SUBSCRIPTION_FEATURES_HEADER) ?? '')
      .split(',')
      .map((feature) => feature.trim());
    const closing = features.includes('closing');
    const accessChangedMessage = closing && features.includes('access-changed');
    return sse({
      request,
      principal,
      initialId: stream.after,
      closing,
      run: (writer, maxBacklogBytes) =>
        streamSubscription(writer, { ...stream, maxBacklogBytes, accessChangedMessage }),
    });
  };
}

function closingMessage(lastDeliveredId: string | undefined): string {
  const message: SubscriptionMessage = {
    kind: 'closing',
    reason: 'slow-reader',
    ...(lastDeliveredId === undefined ? {} : { resumeAfter: lastDeliveredId }),
  };
  return JSON.stringify(message);
}
