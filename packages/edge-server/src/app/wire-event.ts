import type { PullResponse, StoredEvent } from '@strata/core';

/** The stored event as the protocol's schema defines it (no store-internal fields). */
export function toWireEvent(event: StoredEvent): PullResponse['events'][number] {
  const {
    id,
    type,
    schemaVersion,
    aggregateType,
    aggregateId,
    version,
    occurredAt,
    data,
    metadata,
    position,
    recordedAt,
  } = event;
  return {
    id,
    type,
    schemaVersion,
    aggregateType,
    aggregateId,
    version,
    occurredAt,
    data: data as PullResponse['events'][number]['data'],
    metadata: metadata as PullResponse['events'][number]['metadata'],
    position,
    recordedAt,
  };
}
