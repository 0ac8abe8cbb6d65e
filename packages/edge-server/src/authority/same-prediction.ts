import type { AnyAggregateDefinition, EventEnvelope } from '@strata/core';
import { canonicalJson } from '@strata/core';

/** Where the server's decision and the client's prediction part ways. */
export interface PredictionDifference {
  /** The first event that differs (the shorter list's length when only the count differs). */
  readonly index: number;
  readonly message: string;
}

/**
 * Compares what the server decided with what the client pushed (authority `verify`): the same
 * number of events, and each with the same id, type, schema version, version and data. Metadata
 * and times are the server's to set. Undefined when they are the same.
 *
 * With `aggregate`, a predicted event of an older schema version (an app from before the event's
 * last `nextVersion`, issue 17) is upcast first, so an old client's prediction of the same event
 * is the same; the server stores its own decision, at the current version.
 */
export function samePrediction(
  decided: readonly EventEnvelope[],
  pushed: readonly EventEnvelope[],
  aggregate?: AnyAggregateDefinition,
): PredictionDifference | undefined {
  const predicted = aggregate === undefined ? pushed : pushed.map((e) => upcast(aggregate, e));
  const fields = ['id', 'type', 'schemaVersion', 'version'] as const;
  for (let index = 0; index < Math.max(decided.length, predicted.length); index++) {
    const ours = decided[index];
    const theirs = predicted[index];
    if (ours === undefined || theirs === undefined) {
      return {
        index,
        message: `The server decides ${decided.length} event(s), the client pushed ${predicted.length}`,
      };
    }
    const field = fields.find((key) => ours[key] !== theirs[key]);
    if (field !== undefined) {
      return {
        index,
        message: `Event ${index} differs in ${field}: the server decides ${String(ours[field])}`,
      };
    }
    if (canonicalJson(ours.data) !== canonicalJson(theirs.data)) {
      return { index, message: `Event ${index} (${ours.type}) differs in its data` };
    }
  }
  return undefined;
}

/** The event at its type's current schema version; as pushed when that cannot be read. */
function upcast(aggregate: AnyAggregateDefinition, event: EventEnvelope): EventEnvelope {
  if (!aggregate.events.has(event.type)) return event;
  if (event.schemaVersion >= aggregate.events.get(event.type).schemaVersion) return event;
  try {
    return aggregate.events.decode(event);
  } catch {
    // Data invalid at its version: compared as pushed, it differs in its schema version.
    return event;
  }
}
