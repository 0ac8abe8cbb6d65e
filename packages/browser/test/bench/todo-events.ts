import { newKsuid, type StoredEvent } from '@strata/core';

const T0 = Date.UTC(2026, 0, 1);
const CLIENT_ID = newKsuid({ now: T0 });

/**
 * The event at `version` of one todo's history, valid for `Todo`: TodoAdded first (a tenth of
 * them at schema version 1, to be upcast), then renames with a complete/reopen pair every ten.
 */
function todoEvent(
  aggregateId: string,
  aggregateIndex: number,
  version: number,
  position: number,
): StoredEvent {
  const occurredMs = T0 + position * 50;
  const occurredAt = new Date(occurredMs).toISOString();
  const commandId = newKsuid({ now: occurredMs });
  const base = {
    id: newKsuid({ now: occurredMs }),
    aggregateType: 'Todo',
    aggregateId,
    version,
    position,
    occurredAt,
    recordedAt: occurredAt,
    metadata: { clientId: CLIENT_ID, commandId, correlationId: commandId, causationId: commandId },
  };
  if (version === 1) {
    return aggregateIndex % 10 === 0
      ? { ...base, type: 'TodoAdded', schemaVersion: 1, data: { text: `Todo ${aggregateIndex}` } }
      : { ...base, type: 'TodoAdded', schemaVersion: 2, data: { title: `Todo ${aggregateIndex}` } };
  }
  if (version % 10 === 5) return { ...base, type: 'TodoCompleted', schemaVersion: 1, data: {} };
  if (version % 10 === 6) return { ...base, type: 'TodoReopened', schemaVersion: 1, data: {} };
  return {
    ...base,
    type: 'TodoRenamed',
    schemaVersion: 1,
    data: { title: `Todo ${aggregateIndex}, take ${version}` },
  };
}

/**
 * Events as a server hands them to `importEvents` (stored, `position` being the server's):
 * `aggregates` todos with `eventsPerAggregate` events each, in a global order that interleaves
 * them (as many clients' commands would), positions from 1. Returns the events and the ids.
 */
export function generateTodoHistory(
  aggregates: number,
  eventsPerAggregate: number,
): { readonly events: StoredEvent[]; readonly aggregateIds: string[] } {
  const aggregateIds = Array.from({ length: aggregates }, (_, i) => newKsuid({ now: T0 + i }));
  const events: StoredEvent[] = [];
  for (let version = 1; version <= eventsPerAggregate; version++) {
    for (let i = 0; i < aggregates; i++) {
      events.push(todoEvent(aggregateIds[i] as string, i, version, events.length + 1));
    }
  }
  return { events, aggregateIds };
}

/** One todo's history, versions 1..`count`. */
export function generateOneTodo(aggregateId: string, count: number): StoredEvent[] {
  return Array.from({ length: count }, (_, i) => todoEvent(aggregateId, 0, i + 1, i + 1));
}
