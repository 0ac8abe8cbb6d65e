import { newEventOf } from '@strata/core';
import type { InMemoryDecide } from './decide-batch.ts';
import { type InMemoryParts, stateAfter } from './decide-in-memory.ts';
import { decideOnServer } from './decide-on-server.ts';
import { predictionTimeFits } from './prediction-time.ts';
import { samePrediction } from './same-prediction.ts';
import type { WriterIdentity } from './stamped-metadata.ts';

/**
 * Authority `verify` in memory, for decide-batch.ts: the command decided again on `loaded` at
 * the prediction's time; its decision, with the client's event ids, when it is the client's
 * prediction. Undefined when the one-command path must take it, which then answers exactly: a
 * prediction made on another version, at a time that may not be used, or that the decision
 * does not match; a command that predicted nothing (logged on its own there); an aggregate
 * whose last event's time is not known here. As the one-command path, no snapshot is taken.
 *
 * @example
 * const decision = verifyInMemory(parts, writer)({ command, predicted }, Note, loaded);
 */
export function verifyInMemory(parts: InMemoryParts, writer: WriterIdentity): InMemoryDecide {
  return ({ command, predicted = [] }, aggregate, loaded) => {
    const [first] = predicted;
    if (first === undefined || first.version - 1 !== loaded.version) return undefined;
    if (loaded.version > 0 && loaded.tipOccurredAt === undefined) return undefined;
    const now = new Date(first.occurredAt);
    if (!predictionTimeFits(now, parts.clock(), loaded.tipOccurredAt)) return undefined;
    try {
      const decision = decideOnServer(aggregate, command, loaded, writer, {
        metadata: parts.metadataOf(command),
        now,
        newId: parts.newId,
      });
      // The client's event ids are kept (as the one-command path keeps them).
      const decided = decision.events.map((event, index) => ({
        ...event,
        id: predicted[index]?.id ?? event.id,
      }));
      if (samePrediction(decided, predicted, aggregate) !== undefined) return undefined;
      const events = decided.map(newEventOf);
      return {
        events,
        snapshot: undefined,
        state: stateAfter(loaded, decision.state, events, undefined),
      };
    } catch {
      return undefined;
    }
  };
}
