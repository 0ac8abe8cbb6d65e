// Which definitions this app version reads events with, and whether it can read one (issue 17).
import {
  type AnyAggregateDefinition,
  type InlineProjection,
  isStrataError,
  type StoredEvent,
} from '@strata/core';
import type { UnreadableEventRow } from '../database/strata-database.ts';
import type { StrataTransaction } from '../event-store/strata-transaction.ts';

/** Why an event cannot be read: its decoding error's code and message. */
export interface UnreadableReason {
  readonly code: string;
  readonly reason: string;
}

/**
 * The definitions this app version reads events with, by aggregate type: `aggregates` (the
 * sync's, which loads and rebases decode with) and those of typed projections (which decode
 * with their own). An event is readable when every one of its type reads it.
 */
export type ReadingDefinitions = ReadonlyMap<string, readonly AnyAggregateDefinition[]>;

/** The `ReadingDefinitions` of `aggregates` and `projections`. */
export function readingDefinitions(
  aggregates: Iterable<AnyAggregateDefinition>,
  projections: readonly InlineProjection<StrataTransaction>[],
): ReadingDefinitions {
  const definitions = new Map<string, AnyAggregateDefinition[]>();
  const add = (aggregate: AnyAggregateDefinition) => {
    const list = definitions.get(aggregate.type) ?? [];
    if (!list.includes(aggregate)) list.push(aggregate);
    definitions.set(aggregate.type, list);
  };
  for (const aggregate of aggregates) add(aggregate);
  for (const { aggregate } of projections) if (aggregate !== undefined) add(aggregate);
  return definitions;
}

/**
 * Why one of `definitions` cannot read `event`; undefined when all can. Only decoding errors count
 * (`UNKNOWN_EVENT_TYPE`: a type or schema version this version does not know;
 * `VALIDATION_FAILED`: data its schema refuses): anything else is a bug to surface, not skew.
 */
export function unreadableReason(
  definitions: readonly AnyAggregateDefinition[],
  event: StoredEvent,
): UnreadableReason | undefined {
  for (const definition of definitions) {
    try {
      definition.events.decode(event);
    } catch (error) {
      if (isStrataError(error, 'UNKNOWN_EVENT_TYPE') || isStrataError(error, 'VALIDATION_FAILED')) {
        return { code: error.code, reason: error.message };
      }
      throw error;
    }
  }
  return undefined;
}

/** The `unreadable` row of an event the server stored at `serverPosition`. */
export function unreadableRow(
  event: StoredEvent,
  serverPosition: number | undefined,
  { code, reason }: UnreadableReason,
  keptAt: string,
): UnreadableEventRow {
  return {
    id: event.id,
    aggregateType: event.aggregateType,
    aggregateId: event.aggregateId,
    version: event.version,
    type: event.type,
    schemaVersion: event.schemaVersion,
    code,
    reason,
    ...(serverPosition === undefined ? {} : { serverPosition }),
    keptAt,
  };
}
