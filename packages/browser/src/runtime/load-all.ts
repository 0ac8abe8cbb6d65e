import type { AnyAggregateDefinition, LoadedAggregate, StateOf } from '@strata/core';
import { withStorageErrors } from '../database/storage-errors.ts';
import type { EventRow, StrataDatabase } from '../database/strata-database.ts';

const PAGE_SIZE = 10_000;

/**
 * Replays every aggregate of one type to its state. Reads the events in local order straight off
 * the object store (its primary key), which IndexedDB serves about twice as fast as the
 * [type, id, version] index, and folds each aggregate as its events come. Should an aggregate's
 * events not arrive in version order, that aggregate is replayed again through the index.
 */
export async function loadAllAggregates<TAggregate extends AnyAggregateDefinition>(
  db: StrataDatabase,
  aggregate: TAggregate,
): Promise<Map<string, LoadedAggregate<StateOf<TAggregate>>>> {
  type State = StateOf<TAggregate>;
  const loaded = new Map<string, LoadedAggregate<State>>();
  const outOfOrder = new Set<string>();
  const fold = (row: EventRow) => {
    const current = loaded.get(row.aggregateId) ?? {
      state: aggregate.initialState(),
      version: 0,
      snapshotVersion: 0,
    };
    if (row.version !== current.version + 1) {
      outOfOrder.add(row.aggregateId);
      return;
    }
    const state = aggregate.evolve(current.state, aggregate.events.decode(row));
    loaded.set(row.aggregateId, { state, version: row.version, snapshotVersion: 0 });
  };

  return withStorageErrors(async () => {
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
      const rows = await db.events
        .where('[aggregateType+aggregateId+version]')
        .between([aggregate.type, aggregateId], [aggregate.type, aggregateId, []], true, true)
        .toArray();
      for (const row of rows) fold(row);
    }
    return loaded;
  });
}
