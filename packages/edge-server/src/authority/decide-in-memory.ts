import { dueSnapshot, type EventMetadata, type NewEvent, newEventOf } from '@strata/core';
import type { InMemoryDecide } from './decide-batch.ts';
import { decideOnServer } from './decide-on-server.ts';
import type { LoadedWithTip } from './load-aggregates.ts';
import type { ServerCommand } from './server-command.ts';
import type { WriterIdentity } from './stamped-metadata.ts';

/** What deciding in memory takes from the authority. */
export interface InMemoryParts {
  /** The metadata stamped on the command's events. */
  readonly metadataOf: (command: ServerCommand) => EventMetadata;
  readonly clock: () => Date;
  readonly newId: () => string;
}

/**
 * Authority `decide` in memory, for decide-batch.ts: the command decided on `loaded` at the
 * server's time, with the snapshot its aggregate's policy asks for (as the command handler
 * takes it); undefined when the one-command path must take it: it was refused (deciding it
 * again there gives the exact answer, a concurrent re-push included) or it decided nothing
 * (logged on its own there).
 *
 * @example
 * const decision = decideInMemory(parts, writer)({ command }, Cart, loaded);
 */
export function decideInMemory(parts: InMemoryParts, writer: WriterIdentity): InMemoryDecide {
  return ({ command }, aggregate, loaded) => {
    const now = parts.clock();
    try {
      const decision = decideOnServer(aggregate, command, loaded, writer, {
        metadata: parts.metadataOf(command),
        now,
        newId: parts.newId,
      });
      if (decision.events.length === 0) return undefined;
      const events = decision.events.map(newEventOf);
      const stream = { aggregateType: command.aggregateType, aggregateId: command.aggregateId };
      const snapshot = dueSnapshot(aggregate, stream, loaded, events.length, decision.state, now);
      return { events, snapshot, state: stateAfter(loaded, decision.state, events, snapshot) };
    } catch {
      return undefined;
    }
  };
}

/** The aggregate after a decision's events (and its snapshot, if one is taken). */
export function stateAfter(
  loaded: LoadedWithTip,
  state: unknown,
  events: readonly NewEvent[],
  snapshot: { readonly version: number } | undefined,
): LoadedWithTip {
  const version = loaded.version + events.length;
  const last = events.at(-1);
  return {
    state,
    version,
    snapshotVersion: snapshot === undefined ? loaded.snapshotVersion : snapshot.version,
    ...(last === undefined ? {} : { lastEventId: last.id, tipOccurredAt: last.occurredAt }),
  };
}
