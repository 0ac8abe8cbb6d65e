import type { EventEnvelope } from './event.ts';

/**
 * The envelope fields of an event and nothing else: what goes on the wire (a push, a pull) when
 * the event comes from a store row that carries bookkeeping (tenant, cursor, sync state).
 *
 * @example
 * const commit = { commitId, events: rows.map(envelopeOf) };
 */
export function envelopeOf<TType extends string, TData>(
  event: EventEnvelope<TType, TData>,
): EventEnvelope<TType, TData> {
  return {
    id: event.id,
    type: event.type,
    schemaVersion: event.schemaVersion,
    aggregateType: event.aggregateType,
    aggregateId: event.aggregateId,
    version: event.version,
    occurredAt: event.occurredAt,
    data: event.data,
    metadata: event.metadata,
  };
}
