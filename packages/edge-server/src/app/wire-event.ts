import { envelopeOf, type PullResponse, type StoredEvent } from '@strata/core';

type WireEvent = PullResponse['events'][number];

/**
 * The stored event as the protocol's (strict) schema defines it: store-internal fields such as
 * the tenant and the cursor stay on the server.
 */
export function toWireEvent(event: StoredEvent): WireEvent {
  // Stored data and metadata were validated as JSON when they were pushed.
  return {
    ...envelopeOf(event),
    position: event.position,
    recordedAt: event.recordedAt,
  } as WireEvent;
}
