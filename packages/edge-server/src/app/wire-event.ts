import type { PullResponse, StoredEvent } from '@strata/core';

type WireEvent = PullResponse['events'][number];

/**
 * The stored event as the protocol's (strict) schema defines it: store-internal fields such as
 * the tenant and the cursor stay on the server.
 */
export function toWireEvent(event: StoredEvent): WireEvent {
  return {
    id: event.id,
    type: event.type,
    schemaVersion: event.schemaVersion,
    aggregateType: event.aggregateType,
    aggregateId: event.aggregateId,
    version: event.version,
    occurredAt: event.occurredAt,
    // Stored data and metadata were validated as JSON when they were pushed.
    data: event.data as WireEvent['data'],
    metadata: event.metadata as WireEvent['metadata'],
    position: event.position,
    recordedAt: event.recordedAt,
  };
}
