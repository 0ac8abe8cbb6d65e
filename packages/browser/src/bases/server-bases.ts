// Snapshot bootstrap (scoped sync): an aggregate a device started from the server's snapshot
// holds no events before the snapshot's version, so everything that replays it (loading,
// projections) starts from that base instead of from its first event.
import {
  type AnyAggregateDefinition,
  type InlineProjection,
  receives,
  type Snapshot,
  type StoredEvent,
  type StreamRef,
  safeParseSchema,
  streamKey,
} from '@strata/core';
import type { StrataDatabase } from '../database/strata-database.ts';
import type { StrataTransaction } from '../event-store/strata-transaction.ts';

/** The bases of these aggregates, by `streamKey`; one read, none when no stream is named. */
export async function basesOf(
  db: StrataDatabase,
  streams: readonly StreamRef[],
): Promise<Map<string, Snapshot>> {
  if (streams.length === 0) return new Map();
  const rows = await db.bases
    .where('[aggregateType+aggregateId]')
    .anyOf(streams.map((stream) => [stream.aggregateType, stream.aggregateId]))
    .toArray();
  return new Map(rows.map((row) => [streamKey(row), row]));
}

/** The bases of one aggregate type, by aggregate id. */
export async function basesOfType(
  db: StrataDatabase,
  aggregateType: string,
): Promise<Map<string, Snapshot>> {
  const rows = await db.bases
    .where('[aggregateType+aggregateId]')
    .between([aggregateType], [aggregateType, []], true, true)
    .toArray();
  return new Map(rows.map((row) => [row.aggregateId, row]));
}

/**
 * Whether an event is covered by its aggregate's base: its effect is in the base's state, so
 * projections and replays skip it (it is stored all the same: history, and the tip's id).
 */
export function coveredByBase(bases: ReadonlyMap<string, Snapshot>, event: StoredEvent): boolean {
  const base = bases.get(streamKey(event));
  return base !== undefined && event.version <= base.version;
}

/**
 * Sets the projections concerned by `base`'s aggregate to its state (`fromState`), inside the
 * caller's transaction; the aggregate's later events then come through `apply`. A projection of
 * one aggregate gets the state as that aggregate's snapshot schema parses it (the base was
 * checked against it when it was adopted).
 */
export async function projectBase(
  projections: readonly InlineProjection<StrataTransaction>[],
  base: Snapshot,
  transaction: StrataTransaction,
): Promise<void> {
  for (const projection of concerning(projections, base.aggregateType)) {
    const options = projection.aggregate?.snapshots;
    const parsed = options === undefined ? undefined : safeParseSchema(options.schema, base.state);
    // A base this app version cannot read waits for sync to retire it (history-holes.ts).
    if (parsed?.success === false || (options && options.fingerprint !== base.fingerprint))
      continue;
    const state = parsed === undefined ? base.state : parsed.data;
    const stream = { aggregateType: base.aggregateType, aggregateId: base.aggregateId };
    await projection.fromState?.(stream, state, base.version, transaction);
  }
}

/**
 * The aggregate types a device may bootstrap from server snapshots, each with the fingerprint
 * it decodes (`ScopedPullRequest.snapshots`): those whose snapshots opt in
 * (`SnapshotOptions.bootstrap`) and whose every inline projection can start from a state
 * (`fromState`); a projection that cannot would miss the events a snapshot stands for.
 */
export function bootstrapTypes(
  aggregates: Iterable<AnyAggregateDefinition>,
  projections: readonly InlineProjection<unknown>[],
): Record<string, string> {
  const types: Record<string, string> = {};
  for (const aggregate of aggregates) {
    const snapshots = aggregate.snapshots;
    if (snapshots === undefined || !snapshots.bootstrap) continue;
    if (
      concerning(projections, aggregate.type).every(
        (projection) => projection.fromState !== undefined,
      )
    ) {
      types[aggregate.type] = snapshots.fingerprint;
    }
  }
  return types;
}

/** The projections that receive events of `aggregateType`. */
function concerning<T extends { readonly aggregate?: AnyAggregateDefinition }>(
  projections: readonly T[],
  aggregateType: string,
): T[] {
  const probe = { aggregateType } as StoredEvent;
  return projections.filter((projection) => receives(projection, probe));
}
