import type { JsonValue } from './json.ts';

/**
 * Who and what caused an event. Command execution fills the well-known keys; apps may add
 * their own JSON keys.
 */
export interface EventMetadata {
  readonly clientId?: string | undefined;
  readonly commandId?: string | undefined;
  readonly correlationId?: string | undefined;
  readonly causationId?: string | undefined;
  readonly userId?: string | undefined;
  readonly [key: string]: JsonValue | undefined;
}

/**
 * An event as it is created and applied: the same envelope in the browser, on the server and on
 * the wire. `version` is the aggregate's version after this event (the first event is 1);
 * `id` is a KSUID made where the event was made.
 *
 * @example
 * const event: EventEnvelope<'TodoAdded', { title: string }> = {
 *   id: newEventId(), type: 'TodoAdded', schemaVersion: 1, aggregateType: 'Todo',
 *   aggregateId: 'todo-1', version: 1, occurredAt: new Date().toISOString(),
 *   data: { title: 'Milk' }, metadata: {},
 * };
 */
export interface EventEnvelope<TType extends string = string, TData = unknown> {
  readonly id: string;
  readonly type: TType;
  readonly schemaVersion: number;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly version: number;
  /** ISO 8601 time at which the event was decided. */
  readonly occurredAt: string;
  readonly data: TData;
  readonly metadata: EventMetadata;
}

/**
 * An event as a store holds it: the envelope plus its place in the store's global order
 * (`position`, increasing) and the time the store recorded it.
 */
export interface StoredEvent<TType extends string = string, TData = unknown>
  extends EventEnvelope<TType, TData> {
  readonly position: number;
  /** ISO 8601 time at which the store recorded the event. */
  readonly recordedAt: string;
}

/**
 * An event handed to `EventStore.append`: the store gives it its stream, version and position.
 */
export interface NewEvent<TType extends string = string, TData = unknown> {
  readonly id: string;
  readonly type: TType;
  readonly schemaVersion: number;
  readonly occurredAt: string;
  readonly data: TData;
  readonly metadata: EventMetadata;
}
