/**
 * The SSE subscriptions this instance holds open, for the `strata_subscribers` gauges and the
 * subscriber lag. The instance's one SSE responder (both protocols) is wrapped: a subscription
 * counts from its stream's start until its writer ends, whichever way (the client leaving, a
 * slow reader's overflow, the server closing it). The gauges are read from this set at each
 * scrape, never kept as a running sum, so they cannot drift.
 */
import { decodeClientCursor } from '../postgres/tenant-cursor.ts';
import type { BoundedSseWriter } from '../subscriptions/bounded-sse-writer.ts';
import type { SseResponder } from '../subscriptions/subscription-response.ts';

/** The two subscription routes: `GET /v1/subscribe` (whole tenant), `/v2/subscribe` (scopes). */
export type SubscriptionProtocol = 'v1' | 'v2';

/** One open subscription: its protocol, its tenant (never a label) and its writer. */
export interface OpenSubscription {
  readonly protocol: SubscriptionProtocol;
  readonly tenant: string;
  readonly writer: Pick<BoundedSseWriter, 'bufferedBytes' | 'lastDeliveredId'>;
}

/** The set of open subscriptions of one process or isolate. */
export interface OpenSubscriptions {
  /** `responder`, with every stream it starts counted while it runs. */
  observe(
    responder: SseResponder,
    onOpened?: (protocol: SubscriptionProtocol) => void,
  ): SseResponder;
  /** The subscriptions open now. */
  list(): readonly OpenSubscription[];
}

/** An empty set. */
export function createOpenSubscriptions(): OpenSubscriptions {
  const open = new Set<OpenSubscription>();
  return {
    observe(responder, onOpened) {
      return (subscription) => {
        const protocol: SubscriptionProtocol = new URL(subscription.request.url).pathname.includes(
          '/v2/',
        )
          ? 'v2'
          : 'v1';
        return responder({
          ...subscription,
          run(writer, maxBacklogBytes) {
            const entry: OpenSubscription = {
              protocol,
              tenant: subscription.principal.tenant,
              writer,
            };
            open.add(entry);
            onOpened?.(protocol);
            writer.onEnded(() => open.delete(entry));
            return subscription.run(writer, maxBacklogBytes).finally(() => open.delete(entry));
          },
        });
      };
    },
    list: () => [...open],
  };
}

/**
 * Where a whole-tenant (v1) subscription's client is: the tenant position of the last event the
 * transport took (or of the cursor it resumed from); undefined when that is not a tenant cursor
 * (a global cursor from before tenant positions).
 */
export function deliveredTenantPosition(subscription: OpenSubscription): number | undefined {
  if (subscription.protocol !== 'v1') return undefined;
  try {
    const cursor = decodeClientCursor(subscription.writer.lastDeliveredId);
    return cursor.kind === 'tenant' ? cursor.position : undefined;
  } catch {
    return undefined;
  }
}
