import { DuplicateEventIdError, NoEventsError } from '../errors/errors.ts';
import type { NewEvent, StoredEvent } from '../events/event.ts';
import {
  ANY,
  assertExpectedVersion,
  assertValidExpectedVersion,
  type ExpectedVersion,
  NO_STREAM,
  STREAM_EXISTS,
} from './expected-version.ts';
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
 *   puts it: a retry, answered with the stored events;
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

  const stored = events.map((event) => input.findStored(event.id));
  const storedCount = stored.filter((event) => event !== undefined).length;
  if (storedCount === 0) {
    assertExpectedVersion(stream, expectedVersion, currentVersion);
    return { kind: 'append', firstVersion: currentVersion + 1 };
  }

  const retried = stored.filter((event): event is StoredEvent => event !== undefined);
  const first = retried[0] as StoredEvent;
  const samePlace =
    storedCount === events.length &&
    retried.every(
      (event, index) => sameStream(event, stream) && event.version === first.version + index,
    ) &&
    fitsExpectedVersion(expectedVersion, first.version);
  if (!samePlace) {
    const clash = retried.find((event) => event !== undefined) as StoredEvent;
    throw new DuplicateEventIdError(
      clash.id,
      `Event id ${clash.id} is already stored at ${streamLabel(clash)} version ${clash.version}`,
    );
  }
  return { kind: 'already-stored', events: retried };
}

/** Whether stored events starting at `firstVersion` are where `expected` would have put them. */
function fitsExpectedVersion(expected: ExpectedVersion, firstVersion: number): boolean {
  switch (expected) {
    case ANY:
      return true;
    case NO_STREAM:
      return firstVersion === 1;
    case STREAM_EXISTS:
      return firstVersion > 1;
    default:
      return firstVersion === expected + 1;
  }
}
