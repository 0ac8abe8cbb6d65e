import { envelopeOf, type PullResponse, type StoredEvent } from '@strata/core';

type WireEvent = PullResponse['events'][number];

/**
 * The position a client sees: the event's place in its tenant's dense log, never the global
 * one (which would tell the tenant how much the others write). Events that carry no tenant
 * position (not from the Postgres store) keep their own.
 *
 * @example
 * const positions = result.events.map(wirePosition); // a push answer's positions
 */
export function wirePosition(event: StoredEvent & { readonly tenantPosition?: number }): number {
  return event.tenantPosition ?? event.position;
}

/**
 * The stored event as the protocol's (strict) schema defines it: store-internal fields such as
 * the tenant, the global position and the cursors stay on the server.
 *
 * @example
 * return c.json({ events: page.events.map(toWireEvent), cursor: page.cursor, hasMore });
 */
export function toWireEvent(event: StoredEvent & { readonly tenantPosition?: number }): WireEvent {
  // Stored data and metadata were validated as JSON when they were pushed.
  return {
    ...envelopeOf(event),
    position: wirePosition(event),
    recordedAt: event.recordedAt,
  } as WireEvent;
}
