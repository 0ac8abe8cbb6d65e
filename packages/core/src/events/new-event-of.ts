import type { EventEnvelope, NewEvent } from './event.ts';

/**
 * An envelope as an append takes it: without the aggregate and version, which the append
 * assigns. For code that decides events and stores them (the command handler, the server's
 * batched decisions).
 *
 * @example
 * await store.append(stream, decision.events.map(newEventOf), { expectedVersion });
 */
export function newEventOf(event: EventEnvelope): NewEvent {
  return {
    id: event.id,
    type: event.type,
    schemaVersion: event.schemaVersion,
    occurredAt: event.occurredAt,
    data: event.data,
    metadata: event.metadata,
  };
}
