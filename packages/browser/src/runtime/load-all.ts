import type { AnyAggregateDefinition, LoadedAggregate, StateOf } from '@strata/core';
import { withStorageErrors } from '../database/storage-errors.ts';
import type { StrataDatabase } from '../database/strata-database.ts';

/**
 * Replays every aggregate of one type to its state: one pass over the events index in
 * (aggregate id, version) order, in pages, decoding and folding as it goes.
 */
export async function loadAllAggregates<TAggregate extends AnyAggregateDefinition>(
  db: StrataDatabase,
  aggregate: TAggregate,
  pageSize = 10_000,
): Promise<Map<string, LoadedAggregate<StateOf<TAggregate>>>> {
  type State = StateOf<TAggregate>;
  const loaded = new Map<string, LoadedAggregate<State>>();
  // [type] sorts before every [type, id, version] key and [type, []] after all of them.
  let after: readonly unknown[] = [aggregate.type];
  let currentId: string | undefined;
  let state: State = aggregate.initialState();
  let version = 0;

  return withStorageErrors(async () => {
    for (;;) {
      const rows = await db.events
        .where('[aggregateType+aggregateId+version]')
        .between(after, [aggregate.type, []], false, true)
        .limit(pageSize)
        .toArray();
      for (const row of rows) {
        if (row.aggregateId !== currentId) {
          if (currentId !== undefined)
            loaded.set(currentId, { state, version, snapshotVersion: 0 });
          currentId = row.aggregateId;
          state = aggregate.initialState();
        }
        state = aggregate.evolve(state, aggregate.events.decode(row));
        version = row.version;
      }
      const last = rows[rows.length - 1];
      if (last === undefined || rows.length < pageSize) break;
      after = [aggregate.type, last.aggregateId, last.version];
    }
    if (currentId !== undefined) loaded.set(currentId, { state, version, snapshotVersion: 0 });
    return loaded;
  });
}
