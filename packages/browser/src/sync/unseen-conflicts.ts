// Scoped sync: a version conflict waits for upstream to bring the aggregate's newer events (a
// rebase then settles the pending commands). On an aggregate no held scope has placed on the
// device — e.g. a task created here under an id the server has outside the device's scopes —
// upstream may never bring them, and the push would conflict forever. Such an aggregate waits
// for one complete catch-up that started after the conflict: that read saw every event the
// server had committed when it answered, so if no held scope brought the aggregate by then,
// none holds it. Its pending commands are then rejected (FORBIDDEN, shown) and it is dropped.
import { type StreamRef, streamKey } from '@strata/core';
import { withStorageErrors } from '../database/storage-errors.ts';
import type { RejectedCommandRow } from '../database/strata-database.ts';
import { dropAggregates } from './drop-aggregates.ts';
import { membershipsOf, withPendingCommands } from './scope-members.ts';
import { allScopesRead, readScopeStates } from './scope-set.ts';
import type { SyncContext } from './sync-context.ts';

/** Why the pending commands of a conflicted aggregate no held scope holds are rejected. */
const UNSEEN_AGGREGATE_REASON =
  'The server has changes to this aggregate outside the scopes this device holds: the command cannot be rebased on them';

/** Conflicted aggregates waiting to be brought upstream (one sync session's memory). */
export interface UnseenConflicts {
  /**
   * After a push answer: its conflicts on aggregates without a scope row wait for a catch-up.
   * True when one started waiting (the caller restarts upstream, so a catch-up runs).
   */
  note(conflicts: readonly StreamRef[]): Promise<boolean>;
  /** A catch-up starts. */
  catchUpStarted(): void;
  /**
   * Whether an aggregate waits for a catch-up that has not started yet (one began before its
   * conflict): the live stream opening now is to be restarted.
   */
  wantsCatchUp(): boolean;
  /**
   * A catch-up ended: aggregates that waited since before it started and that it did not place
   * are dropped, their commands rejected (when every scope was read to the end, else they wait
   * on). Returns the commands rejected.
   */
  settle(): Promise<RejectedCommandRow[]>;
}

/**
 * @example
 * const unseen = createUnseenConflicts(context);
 * if (await unseen.note(outcome.conflicts)) liveStream?.abort();
 */
export function createUnseenConflicts(context: SyncContext): UnseenConflicts {
  const { db } = context.strata;
  let round = 0;
  const waiting = new Map<string, { readonly stream: StreamRef; readonly round: number }>();
  return {
    async note(conflicts) {
      const unknown = conflicts.filter((conflict) => !waiting.has(streamKey(conflict)));
      if (unknown.length === 0) return false;
      // Placed (a scope row, or the `LEAVING` mark): upstream or the rejection settles it.
      const placed = await withStorageErrors(() => membershipsOf(db, unknown));
      let added = false;
      for (const conflict of unknown) {
        const stream = { aggregateType: conflict.aggregateType, aggregateId: conflict.aggregateId };
        const key = streamKey(stream);
        if (waiting.has(key) || placed.has(key)) continue;
        waiting.set(key, { stream, round });
        added = true;
      }
      return added;
    },
    catchUpStarted() {
      round++;
    },
    wantsCatchUp: () => [...waiting.values()].some((entry) => entry.round >= round),
    async settle() {
      const due = [...waiting].filter(([, entry]) => entry.round < round);
      if (due.length === 0) return [];
      return withStorageErrors(() =>
        db.transaction('rw', db.tables, async (dexie) => {
          if (!allScopesRead(await readScopeStates(db))) return [];
          for (const [key] of due) waiting.delete(key);
          const streams = due.map(([, { stream }]) => stream);
          // Placed by a held scope (its events came, a rebase follows), or marked leaving
          // (its conflict is a rejection already): not this one's to settle.
          const placed = await membershipsOf(db, streams);
          const pending = await withPendingCommands(db, streams);
          const unseen = streams.filter(
            (stream) => !placed.has(streamKey(stream)) && pending.has(streamKey(stream)),
          );
          return dropAggregates(
            context,
            unseen,
            { dexie, table: (name) => db.table(name) },
            UNSEEN_AGGREGATE_REASON,
          );
        }),
      );
    },
  };
}
