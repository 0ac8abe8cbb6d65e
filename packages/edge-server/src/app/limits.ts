/**
 * Request and subscription limits. Oversized requests are answered `PAYLOAD_TOO_LARGE` (413), a
 * subscription past the open-subscription caps `RATE_LIMITED` (429 with Retry-After), never a
 * crash. Defaults in `DEFAULT_LIMITS`, applied once by `createSyncApp`.
 *
 * @example
 * createSyncApp({ database, authenticate, limits: { maxSubscriptionsPerPrincipal: 4 } });
 */
export interface SyncLimits {
  /** Largest request body, in bytes. Defaults to 1 MiB. */
  readonly maxBodyBytes: number;
  /** Most events in one push, over all its commits. Defaults to 1000. */
  readonly maxEventsPerPush: number;
  /** Largest single event, as JSON, in bytes. Defaults to 64 KiB. */
  readonly maxEventBytes: number;
  /**
   * Most bytes a subscriber may leave unread: live events waiting for it (the feed's shared
   * objects, sized as JSON), and as much again of encoded SSE messages queued on the server
   * beyond what the runtime's socket buffers hold (writes wait at a quarter of it, at most
   * 64 KiB). Past it the server stops feeding the subscriber and ends its stream; the client
   * resumes from the last event id it got (one that asks for it first gets a `closing`
   * message), reading the rest from the log at its own pace. Events committed together arrive
   * at once, so this is also the largest burst a reader that keeps up takes without being
   * ended: the default leaves room for four full pushes (`maxBodyBytes`). Defaults to 4 MiB.
   */
  readonly maxSubscriptionBufferBytes: number;
  /**
   * How long a subscriber whose stream the server ended may take to read its end before the
   * connection is cut. Defaults to 30 000 ms.
   */
  readonly subscriptionCloseGraceMs: number;
  /**
   * How long a subscriber's connection may take nothing while a message (at least the heartbeat)
   * waits for it before the connection is cut, freeing its slot, and on Workers its database
   * connection: some runtimes neither cancel the stream nor abort the request when a client
   * leaves. A reader that takes anything, however slowly, is not stalled. Defaults to 120 000 ms.
   */
  readonly subscriptionStallMs: number;
  /** Most open subscriptions of one principal (tenant + subject) on one instance. Defaults to 8. */
  readonly maxSubscriptionsPerPrincipal: number;
  /** Most open subscriptions on one instance, over all principals. Defaults to 1000. */
  readonly maxSubscriptions: number;
}

/** The limits `createSyncApp` applies where its `limits` option names none. */
export const DEFAULT_LIMITS: SyncLimits = {
  maxBodyBytes: 1024 * 1024,
  maxEventsPerPush: 1000,
  maxEventBytes: 64 * 1024,
  maxSubscriptionBufferBytes: 4 * 1024 * 1024,
  subscriptionCloseGraceMs: 30_000,
  subscriptionStallMs: 120_000,
  maxSubscriptionsPerPrincipal: 8,
  maxSubscriptions: 1000,
};
