import { UnknownEventTypeError } from '../errors/errors.ts';
import type { EventEnvelope } from './event.ts';
import type { AnyEventDefinition, EventDataOf } from './event-definition.ts';

/** The decoded envelope of one event definition: its literal type and current data type. */
export type EventOfDefinition<TDefinition> = TDefinition extends AnyEventDefinition
  ? EventEnvelope<TDefinition['type'], EventDataOf<TDefinition>>
  : never;

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
   * `UNKNOWN_EVENT_TYPE` or `VALIDATION_FAILED`.
   */
  decode<TEvent extends EventEnvelope>(event: TEvent): TEvent & EventOfDefinition<TDefinition>;
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
      const data = definition.decode(event.schemaVersion, event.data);
      return { ...event, schemaVersion: definition.schemaVersion, data } as never;
    },
  };
}
