// Version skew (issue 17): an aggregate with an event this app version cannot read is HELD at
// the version before that event. Folding its later events without the unreadable one would
// give a state no app version ever had (event sourcing: a state is the fold of ALL the events
// before it), so nothing past the hold is applied: loads, live states, `loadAll`, `history` and
// the projections stop there, and commands on it are refused (`AggregateHeldError`) since they
// would decide on a state that is not the aggregate's. The events are all stored in the log
// (`events`): history stays whole, and versions stay right (the aggregate's next version is
// after them). Other aggregates are not concerned. An app version that reads the events applies
// them when it starts (`releaseReadable`).
import {
  type EventStore,
  type StoredEvent,
  type StreamRef,
  streamKey,
  UnknownEventTypeError,
} from '@strata/core';
import type { StrataDatabase, UnreadableEventRow } from '../database/strata-database.ts';
import { streamRange } from '../event-store/dexie-event-store.ts';

/** The first unreadable event of each held aggregate, by `streamKey`. */
export type Holds = ReadonlyMap<string, UnreadableEventRow>;

const STREAM_INDEX = '[aggregateType+aggregateId+version]';

/** The first unreadable event of `stream`; undefined when it is not held. */
export async function holdOf(
  db: StrataDatabase,
  stream: StreamRef,
): Promise<UnreadableEventRow | undefined> {
  return db.unreadable
    .where(STREAM_INDEX)
    .between(...streamRange(stream), true, true)
    .first();
}

/**
 * The holds of these aggregates. The table is empty unless app versions are skewed, so one
 * count answers the usual case; otherwise one read per aggregate, sent at once.
 */
export async function holdsOf(db: StrataDatabase, streams: readonly StreamRef[]): Promise<Holds> {
  if (streams.length === 0 || (await db.unreadable.count()) === 0) return new Map();
  const firsts = await Promise.all(streams.map((stream) => holdOf(db, stream)));
  const holds = new Map<string, UnreadableEventRow>();
  for (const row of firsts) if (row !== undefined) holds.set(streamKey(row), row);
  return holds;
}

/** The holds of every aggregate (of one type, when given). */
export async function allHolds(db: StrataDatabase, aggregateType?: string): Promise<Holds> {
  const rows =
    aggregateType === undefined
      ? await db.unreadable.toArray()
      : await db.unreadable
          .where(STREAM_INDEX)
          .between([aggregateType], [aggregateType, []], true, true)
          .toArray();
  const holds = new Map<string, UnreadableEventRow>();
  for (const row of rows) {
    const key = streamKey(row);
    const held = holds.get(key);
    if (held === undefined || row.version < held.version) holds.set(key, row);
  }
  return holds;
}

/** Whether `event` is applied: its aggregate is not held, or it comes before the hold. */
export function beforeHold(holds: Holds, event: StoredEvent): boolean {
  const hold = holds.get(streamKey(event));
  return hold === undefined || event.version < hold.version;
}

/**
 * A command on a held aggregate: this app version cannot read one of its events (written by a
 * newer app version), so it cannot know the aggregate's state to decide on. Its code is
 * `UNKNOWN_EVENT_TYPE` (branch on that, as on any strata error) and it says which aggregate is
 * held, where, and by which event; updating the app lifts it.
 *
 * @example
 * try {
 *   await strata.execute(Todo, 't1', 'rename', { title: 'Oat milk' });
 * } catch (error) {
 *   if (error instanceof AggregateHeldError) showUpdatePrompt(error.heldAtVersion);
 * }
 */
export class AggregateHeldError extends UnknownEventTypeError {
  readonly aggregateType: string;
  readonly aggregateId: string;
  /** The version the aggregate is held at: the last one this app version could read. */
  readonly heldAtVersion: number;
  /** Why its next event could not be read (`UnreadableEventRow.code`). */
  readonly reason: string;

  constructor(hold: UnreadableEventRow) {
    super(hold.type, hold.schemaVersion);
    this.message =
      `${hold.aggregateType}/${hold.aggregateId} is held at version ${hold.version - 1}: ` +
      `its event ${hold.version} (${hold.type}, schema version ${hold.schemaVersion}) cannot be ` +
      'read by this app version; update the app to change it';
    this.aggregateType = hold.aggregateType;
    this.aggregateId = hold.aggregateId;
    this.heldAtVersion = hold.version - 1;
    this.reason = hold.code;
  }

  override details() {
    return {
      ...super.details(),
      aggregateType: this.aggregateType,
      aggregateId: this.aggregateId,
      heldAtVersion: this.heldAtVersion,
      reason: this.reason,
    };
  }
}

/**
 * `store` as commands see it: reading a held aggregate is refused with `AggregateHeldError`
 * (the hold is read beside the events, in parallel), so no command decides on it.
 */
export function refusingHeld<TStore extends Pick<EventStore<never>, 'readStream'>>(
  db: StrataDatabase,
  store: TStore,
): TStore {
  return {
    ...store,
    async readStream(stream, options) {
      const [events, hold] = await Promise.all([
        store.readStream(stream, options),
        holdOf(db, stream),
      ]);
      if (hold !== undefined) throw new AggregateHeldError(hold);
      return events;
    },
  };
}

/**
 * `store` as reads of state see it: a held aggregate's events end before its hold, so a load
 * folds the state of its last readable event.
 */
export function upToHolds<TStore extends Pick<EventStore<never>, 'readStream'>>(
  db: StrataDatabase,
  store: TStore,
): TStore {
  return {
    ...store,
    async readStream(stream, options) {
      const [events, hold] = await Promise.all([
        store.readStream(stream, options),
        holdOf(db, stream),
      ]);
      return hold === undefined ? events : events.filter((event) => event.version < hold.version);
    },
  };
}
