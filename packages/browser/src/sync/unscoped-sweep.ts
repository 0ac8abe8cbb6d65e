// A database that synced the whole tenant (v1) and now starts with scopes holds aggregates no
// held scope holds: they came from the whole tenant, and no scoped read will ever mention them
// (a scope only says `left` of what it held). Once the scopes were read to the end, every
// aggregate a held scope holds has its scope row, so the rest can go.
import { type StreamRef, streamKey } from '@strata/core';
import { withStorageErrors } from '../database/storage-errors.ts';
import type { RejectedCommandRow, StrataDatabase } from '../database/strata-database.ts';
import { CURSOR_KEY } from './apply-upstream.ts';
import { releaseAggregates } from './drop-aggregates.ts';
import { allScopesRead, readScopeStates } from './scope-set.ts';
import type { SyncContext } from './sync-context.ts';

/** The syncState row saying the device holds data from before its scopes (to sweep). */
const UNSCOPED_SWEEP_KEY = 'scopes:sweepUnscoped';

/**
 * Called as scoped sync starts, before the scope set is written. A database that holds data
 * but never held scopes (or synced the whole tenant since: it has the v1 cursor) is marked for
 * a sweep. The v1 cursor goes: scoped sync does not keep it, and a later whole-tenant start
 * must read from the beginning, since what the sweep drops is gone.
 */
export async function prepareScopedStart(db: StrataDatabase): Promise<void> {
  await withStorageErrors(() =>
    db.transaction('rw', [db.syncState, db.events, db.snapshots], async () => {
      const v1Cursor = (await db.syncState.get(CURSOR_KEY)) !== undefined;
      // One row is enough to know: no count over the whole log on every start.
      const holdsData = async () =>
        (await db.events.limit(1).primaryKeys()).length > 0 ||
        (await db.snapshots.limit(1).primaryKeys()).length > 0;
      const neverScoped = async () => (await readScopeStates(db)).length === 0;
      if (v1Cursor || ((await neverScoped()) && (await holdsData()))) {
        await db.syncState.put({ key: UNSCOPED_SWEEP_KEY, value: true });
      }
      await db.syncState.delete(CURSOR_KEY);
    }),
  );
}

/**
 * The sweep, once every scope asked for was read to the end (or is refused: it holds nothing):
 * each aggregate without a scope row is let go as a `left` of all its scopes would let it go —
 * dropped (events, snapshot, projection rows), or, with commands pending, kept until the server
 * answered them (`releaseAggregates`; the answer's scopes then place it). Does nothing when no
 * sweep is due or a scope is still being read. Returns the commands it rejected (none: pending
 * ones wait for their answers).
 */
export async function sweepUnscoped(context: SyncContext): Promise<RejectedCommandRow[]> {
  const { db } = context.strata;
  // Due once per database at most: most catch-ups read one row, not lock every table.
  if ((await withStorageErrors(() => db.syncState.get(UNSCOPED_SWEEP_KEY))) === undefined) {
    return [];
  }
  return withStorageErrors(() =>
    db.transaction('rw', db.tables, async (dexie) => {
      if ((await db.syncState.get(UNSCOPED_SWEEP_KEY)) === undefined) return [];
      const states = await readScopeStates(db);
      if (!allScopesRead(states)) return [];
      const placed = new Set((await db.scopeMembers.toArray()).map((row) => streamKey(row)));
      const orphans = new Map<string, StreamRef>();
      const consider = (aggregateType: string, aggregateId: string) => {
        const stream = { aggregateType, aggregateId };
        const key = streamKey(stream);
        if (!placed.has(key)) orphans.set(key, stream);
      };
      const eventKeys = await db.events.orderBy('[aggregateType+aggregateId+version]').keys();
      for (const key of eventKeys as unknown as [string, string, number][]) {
        consider(key[0], key[1]);
      }
      for (const key of await db.snapshots.toCollection().primaryKeys()) consider(...key);
      const rejected = await releaseAggregates(
        context,
        [...orphans.values()],
        { dexie, table: (name) => db.table(name) },
        { rejectPending: false },
      );
      await db.syncState.delete(UNSCOPED_SWEEP_KEY);
      return rejected;
    }),
  );
}
