import { DuplicateEventIdError, NoEventsError } from '../errors/errors.ts';
import type { NewEvent, StoredEvent } from '../events/event.ts';
import type { ExpectedVersion } from './expected-version.ts';
import {
  assertExpectedVersion,
  assertValidExpectedVersion,
  matchesExpectedVersion,
} from './expected-version-check.ts';
import { differingField } from './same-event-content.ts';
import { type StreamRef, sameStream, streamLabel } from './stream-ref.ts';

/** What an append must do: store new events from `firstVersion`, or confirm stored ones. */
export type AppendPlan =
  | { readonly kind: 'append'; readonly firstVersion: number }
  | { readonly kind: 'already-stored'; readonly events: readonly StoredEvent[] };

/** What the planner needs to know about the store. */
export interface AppendPlanInput {
  readonly stream: StreamRef;
  readonly events: readonly NewEvent[];
  readonly expectedVersion: ExpectedVersion;
  /** The version of the stream's last event, 0 when empty. */
  readonly currentVersion: number;
  /** The stored event with this id, in any stream. */
  readonly findStored: (id: string) => StoredEvent | undefined;
}

/**
 * The append rules of the event store contract, as a pure function that JavaScript backends
 * share (Postgres enforces the same rules in SQL):
 * - no events: `NO_EVENTS`; an id twice in one append: `DUPLICATE_EVENT_ID`;
 * - every id already stored contiguously, in order, in this stream, where the expected version
 *   puts it, with the same content (`differingField`: type, schema version, time, data and
 *   unstamped metadata, compared canonically): a retry, answered with the stored events;
 * - the same ids in the same place with different content: `DUPLICATE_EVENT_ID` (a different
 *   event under a reused id is not a retry);
 * - some ids stored, or stored elsewhere: `DUPLICATE_EVENT_ID`;
 * - otherwise the expected version must hold (`VERSION_CONFLICT`), and the events follow the
 *   stream's last one.
 *
 * @example
 * const plan = planAppend({ stream, events, expectedVersion: NO_STREAM, currentVersion: 0, findStored });
 * if (plan.kind === 'append') writeFrom(plan.firstVersion);
 */
export function planAppend(input: AppendPlanInput): AppendPlan {
  const { stream, events, expectedVersion, currentVersion } = input;
  if (events.length === 0) throw new NoEventsError();
  assertValidExpectedVersion(expectedVersion);

  const ids = new Set<string>();
  for (const event of events) {
    if (ids.has(event.id)) {
      throw new DuplicateEventIdError(event.id, `Event id ${event.id} appears twice in one append`);
    }
    ids.add(event.id);
  }

  const retried = events
    .map((event) => input.findStored(event.id))
    .filter((event): event is StoredEvent => event !== undefined);
  const first = retried[0];
  if (first === undefined) {
    assertExpectedVersion(stream, expectedVersion, currentVersion);
    return { kind: 'append', firstVersion: currentVersion + 1 };
  }

  const samePlace =
    retried.length === events.length &&
    retried.every(
      (event, index) => sameStream(event, stream) && event.version === first.version + index,
    ) &&
    // The stream stood at first.version - 1 when these events were appended.
    matchesExpectedVersion(expectedVersion, first.version - 1);
  if (!samePlace) {
    throw new DuplicateEventIdError(
      first.id,
      `Event id ${first.id} is already stored at ${streamLabel(first)} version ${first.version}`,
    );
  }
  events.forEach((event, index) => {
    const stored = retried[index] as StoredEvent;
    const field = differingField(stored, event);
    if (field !== undefined) {
      throw new DuplicateEventIdError(
        event.id,
        `Event id ${event.id} is already stored at ${streamLabel(stored)} version ${stored.version} with a different ${field}`,
      );
    }
  });
  return { kind: 'already-stored', events: retried };
}
