import {
  type AnyAggregateDefinition,
  type LoadedAggregate,
  type StateOf,
  safeParseSchema,
} from '@strata/core';
import { basesOfType } from '../bases/server-bases.ts';
import { withStorageErrors } from '../database/storage-errors.ts';
import type { EventRow, StrataDatabase } from '../database/strata-database.ts';
import { allHolds, beforeHold, type Holds } from '../unreadable/held-aggregates.ts';

const PAGE_SIZE = 10_000;

/**
 * Replays every aggregate of one type to its state. Reads the events in local order straight off
 * the object store (its primary key), which IndexedDB serves about twice as fast as the
 * [type, id, version] index, and folds each aggregate as its events come. Should an aggregate's
 * events not arrive in version order, that aggregate is replayed again through the index. An
 * aggregate started from a server snapshot (its base) folds from there; a held one (an event
 * this app version cannot read) stops at its hold.
 */
export async function loadAllAggregates<TAggregate extends AnyAggregateDefinition>(
  db: StrataDatabase,
  aggregate: TAggregate,
): Promise<Map<string, LoadedAggregate<StateOf<TAggregate>>>> {
  type State = StateOf<TAggregate>;
  const loaded = new Map<string, LoadedAggregate<State>>();
  const outOfOrder = new Set<string>();
  let bases = new Map<string, LoadedAggregate<State>>();
  let holds: Holds = new Map();
  const start = (aggregateId: string): LoadedAggregate<State> =>
    bases.get(aggregateId) ?? { state: aggregate.initialState(), version: 0, snapshotVersion: 0 };
  const fold = (row: EventRow) => {
    const current = loaded.get(row.aggregateId) ?? start(row.aggregateId);
    // Below its base an aggregate may hold some events and not others: the base has them all.
    if (row.version <= current.snapshotVersion) return;
    // A held aggregate stays at its last readable event (held-aggregates.ts).
    if (!beforeHold(holds, row)) return;
    if (row.version !== current.version + 1) {
      outOfOrder.add(row.aggregateId);
      return;
    }
    const state = aggregate.evolve(current.state, aggregate.events.decode(row));
    loaded.set(row.aggregateId, {
      state,
      version: row.version,
      snapshotVersion: current.snapshotVersion,
    });
  };

  return withStorageErrors(async () => {
    bases = await startingBases(db, aggregate);
    holds = await allHolds(db, aggregate.type);
    let after = 0;
    for (;;) {
      const rows = await db.events.where('position').above(after).limit(PAGE_SIZE).toArray();
      for (const row of rows) {
        if (row.aggregateType === aggregate.type && !outOfOrder.has(row.aggregateId)) fold(row);
      }
      const last = rows[rows.length - 1];
      if (last === undefined || rows.length < PAGE_SIZE) break;
      after = last.position;
    }
    for (const aggregateId of outOfOrder) {
      loaded.delete(aggregateId);
      const base = bases.get(aggregateId);
      if (base !== undefined) loaded.set(aggregateId, base);
      const rows = await db.events
        .where('[aggregateType+aggregateId+version]')
        .between([aggregate.type, aggregateId], [aggregate.type, aggregateId, []], true, true)
        .toArray();
      for (const row of rows) fold(row);
    }
    // An aggregate with no event after its base (rows up to it are skipped) is the base.
    for (const [aggregateId, base] of bases) {
      if (!loaded.has(aggregateId)) loaded.set(aggregateId, base);
    }
    return loaded;
  });
}

/** The aggregates of this type that start from a base (snapshot bootstrap), as loaded states. */
async function startingBases<TAggregate extends AnyAggregateDefinition>(
  db: StrataDatabase,
  aggregate: TAggregate,
): Promise<Map<string, LoadedAggregate<StateOf<TAggregate>>>> {
  const options = aggregate.snapshots;
  const starts = new Map<string, LoadedAggregate<StateOf<TAggregate>>>();
  if (options === undefined) return starts;
  for (const [aggregateId, base] of await basesOfType(db, aggregate.type)) {
    // A base this app version cannot read waits for sync to retire it (history-holes.ts).
    const parsed = safeParseSchema(options.schema, base.state);
    if (base.fingerprint !== options.fingerprint || !parsed.success) continue;
    const state = parsed.data as StateOf<TAggregate>;
    starts.set(aggregateId, { state, version: base.version, snapshotVersion: base.version });
  }
  return starts;
}
