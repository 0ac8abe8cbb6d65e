import { type ForgottenEvent, type ForgottenPayload, isForgotten } from '../crypto/forgotten.ts';
import { UnknownEventTypeError } from '../errors/errors.ts';
import type { EventEnvelope } from './event.ts';
import type { AnyEventDefinition, EventDataOf } from './event-definition.ts';

/** The decoded envelope of one event definition: its literal type and current data type. */
export type EventOfDefinition<TDefinition> = TDefinition extends AnyEventDefinition
  ? EventEnvelope<TDefinition['type'], EventDataOf<TDefinition>>
  : never;

/**
 * What `EventRegistry.decode` makes of a raw event: the typed event, or, when the raw data could
 * be the forgotten marker (crypto-shredding: its key was deleted), that event with the marker as
 * data. Narrow with `isForgottenEvent`.
 */
export type DecodedEvent<TEvent extends EventEnvelope, TDefinition> =
  | (TEvent & EventOfDefinition<TDefinition>)
  | (ForgottenPayload extends TEvent['data']
      ? ForgottenEvent<TEvent & EventOfDefinition<TDefinition>>
      : never);

/**
 * Event definitions by type: the storage boundary where raw events become typed ones.
 *
 * @example
 * const registry = createEventRegistry([TodoAdded, TodoRenamed]);
 * const event = registry.decode(rawEventFromStorage); // typed, upcast to the current version
 */
export interface EventRegistry<TDefinition extends AnyEventDefinition = AnyEventDefinition> {
  readonly definitions: readonly TDefinition[];
  /** The definition of `type`; throws `UNKNOWN_EVENT_TYPE` when none is registered. */
  get(type: string): TDefinition;
  has(type: string): boolean;
  /**
   * Validates and upcasts a raw event. The result carries the current schema version. Throws
   * `UNKNOWN_EVENT_TYPE` or `VALIDATION_FAILED`. A forgotten payload is no error: the event comes
   * back with the marker as data and its stored schema version (issue 7).
   */
  decode<TEvent extends EventEnvelope>(event: TEvent): DecodedEvent<TEvent, TDefinition>;
}

/**
 * Builds a registry; two definitions with one type name are a programming error.
 *
 * @example
 * const registry = createEventRegistry([TodoAdded, TodoCompleted]);
 */
export function createEventRegistry<TDefinition extends AnyEventDefinition>(
  definitions: readonly TDefinition[],
): EventRegistry<TDefinition> {
  const byType = new Map<string, TDefinition>();
  for (const definition of definitions) {
    if (byType.has(definition.type)) {
      throw new TypeError(`Event type "${definition.type}" is defined twice`);
    }
    byType.set(definition.type, definition);
  }

  const get = (type: string): TDefinition => {
    const definition = byType.get(type);
    if (definition === undefined) throw new UnknownEventTypeError(type);
    return definition;
  };

  return {
    definitions,
    get,
    has: (type) => byType.has(type),
    decode(event) {
      const definition = get(event.type);
      // Its key was deleted: nothing to validate or upcast, but the event still happened.
      if (isForgotten(event.data)) return event as never;
      const data = definition.decode(event.schemaVersion, event.data);
      return { ...event, schemaVersion: definition.schemaVersion, data } as never;
    },
  };
}
