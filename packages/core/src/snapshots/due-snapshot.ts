import type { AnyAggregateDefinition } from '../aggregates/aggregate-definition.ts';
import type { LoadedAggregate } from '../commands/load-aggregate.ts';
import type { StreamRef } from '../event-store/stream-ref.ts';
import type { Snapshot } from './snapshot.ts';

/**
 * The snapshot the aggregate's policy asks for after appending `appended` events to `loaded`,
 * to be written in the same transaction as them; undefined when none is due (or the aggregate
 * takes none). Shared by the command handler and the server's batched decisions, so both keep
 * snapshots alike. Pure.
 *
 * @example
 * const snapshot = dueSnapshot(Todo, stream, loaded, events.length, state, now);
 */
export function dueSnapshot(
  aggregate: AnyAggregateDefinition,
  stream: StreamRef,
  loaded: LoadedAggregate<unknown>,
  appended: number,
  state: unknown,
  now: Date,
): Snapshot | undefined {
  const snapshots = aggregate.snapshots;
  const version = loaded.version + appended;
  if (snapshots?.policy({ version, snapshotVersion: loaded.snapshotVersion, appended }) !== true) {
    return undefined;
  }
  return {
    ...stream,
    version,
    state,
    fingerprint: snapshots.fingerprint,
    takenAt: now.toISOString(),
  };
}
