import {
  type LogAnchor,
  type ScopedItem,
  type Snapshot,
  type StreamRef,
  streamKey,
} from '@strata/core';
import { withStorageErrors } from '../database/storage-errors.ts';
import type { RejectedCommandRow, ScopeMemberRow } from '../database/strata-database.ts';
import type { StrataTransaction } from '../event-store/strata-transaction.ts';
import { adoptBases } from './adopt-bases.ts';
import {
  ANCHOR_KEY,
  LAST_SYNCED_AT_KEY,
  storeUpstreamEvents,
  type UpstreamResult,
} from './apply-upstream.ts';
import { releaseAggregates, sweepLeaving } from './drop-aggregates.ts';
import { noteHoles } from './history-holes.ts';
import { LEAVING } from './scope-members.ts';
import { readScopeStates, type ScopeState, writeScopeStates } from './scope-set.ts';
import type { SyncContext, UpstreamEvent } from './sync-context.ts';

/** A batch of a scoped read (a pull page, or items of the live stream) and how far it reached. */
export interface ScopedBatch {
  readonly items: readonly ScopedItem[];
  /** Each scope's cursor after the batch; scopes the device no longer holds are ignored. */
  readonly cursors: Readonly<Record<string, string>>;
  /** Scopes this batch read to the server's end: they are complete from now on. */
  readonly complete?: readonly string[];
}

/** What applying a scoped batch did. */
export interface ScopedResult extends UpstreamResult {
  /** Aggregates removed because no held scope holds them any more. */
  readonly dropped: readonly StreamRef[];
  /** Aggregates left with a hole in their history, noted to be filled (`fillHoles`). */
  readonly holes: readonly StreamRef[];
}

/**
 * Applies a batch of scoped items and the scopes' cursors, all in ONE transaction (a crash keeps
 * both or neither). Items name the scopes they are in; only scopes the device still holds count
 * (a scope removed while its items were on the way is ignored). `event` items are stored as
 * `applyUpstream` stores events (an event already here only adds its scopes) and add the
 * aggregate to their scopes; `left` takes it out of one; `snapshot` (a back-fill from the
 * server's snapshot) becomes the aggregate's base (`adoptBases`). An aggregate the events would
 * leave with a hole gets none of them (`noteHoles`: the sync fills it right after). An aggregate
 * that no held scope holds after the batch is dropped (`dropAggregates`). Deciding on the state
 * after the whole batch means an aggregate that leaves and rejoins within it stays. One with
 * pending commands stays until the server answered them (`releaseAggregates`).
 */
export async function applyScopedItems(
  context: SyncContext,
  batch: ScopedBatch,
): Promise<ScopedResult> {
  const { db } = context.strata;
  return withStorageErrors(() =>
    db.transaction('rw', db.tables, async (dexie) => {
      const transaction: StrataTransaction = { dexie, table: (name) => db.table(name) };
      const states = await readScopeStates(db);
      // A refused scope whose read the server answered is granted again.
      const held = new Set(
        states
          .filter(
            (state) => state.refusedAt === undefined || batch.cursors[state.key] !== undefined,
          )
          .map((state) => state.key),
      );
      const membership = await trackMembership(context, batch.items);
      const events: UpstreamEvent[] = [];
      const snapshots: Snapshot[] = [];
      const seen = new Set<string>();
      for (const item of batch.items) {
        if (item.kind === 'left') {
          if (held.has(item.scope)) membership.leave(item, item.scope);
          continue;
        }
        const scopes = item.scopes.filter((scope) => held.has(scope));
        if (scopes.length === 0) continue;
        const stream = item.kind === 'event' ? item.event : item;
        membership.join(stream, scopes);
        if (item.kind === 'snapshot') {
          const { kind: _kind, cursor: _cursor, scopes: _scopes, ...snapshot } = item;
          snapshots.push(snapshot);
        } else if (!seen.has(item.event.id)) {
          // A multi-scope read can carry one event twice: at its own position in one scope,
          // and in another's copy of the aggregate's history where the aggregate joined it.
          seen.add(item.event.id);
          events.push(item.event);
        }
      }
      // Before the events: they follow the snapshots, not the events the server left out.
      await adoptBases(context, snapshots, transaction);
      // An aggregate these events would leave with a hole gets none of them: the fill brings
      // its history in order (history-holes.ts).
      const holes = await noteHoles(db, events);
      const holed = new Set(holes.map(streamKey));
      const whole = events.filter((event) => !holed.has(streamKey(event)));
      const stored = await storeUpstreamEvents(context, whole, transaction);
      const orphans = await membership.write();
      const rejected: RejectedCommandRow[] = [...stored.rejected];
      rejected.push(
        ...(await releaseAggregates(context, orphans, transaction, { rejectPending: false })),
      );
      await sweepLeaving(context, transaction);
      await writeScopeStates(db, advanced(states, batch));
      await db.syncState.put({ key: LAST_SYNCED_AT_KEY, value: context.clock().toISOString() });
      await advanceAnchor(context, events);
      return { ...stored, rejected, dropped: orphans, holes };
    }),
  );
}

/**
 * Keeps as the anchor (`ANCHOR_KEY`, sent by the next catch-up: issue 17) the latest event the
 * server sent, by tenant position. Scoped items do not come in the log's order (an aggregate
 * joining a scope brings its older history, a new scope back-fills from the start), so an
 * earlier one never replaces a later one: a restore that lost the later one must be told.
 */
async function advanceAnchor(context: SyncContext, events: readonly UpstreamEvent[]) {
  const { db } = context.strata;
  let latest: UpstreamEvent | undefined;
  for (const event of events) {
    if (latest === undefined || event.position > latest.position) latest = event;
  }
  if (latest === undefined) return;
  const stored = (await db.syncState.get(ANCHOR_KEY))?.value as LogAnchor | undefined;
  if (stored !== undefined && stored.position >= latest.position) return;
  await db.syncState.put({
    key: ANCHOR_KEY,
    value: { position: latest.position, eventId: latest.id } satisfies LogAnchor,
  });
}

/**
 * The scope states with the batch's cursors (and completions) for the scopes still asked for;
 * a refused scope the server answered for is no longer refused.
 */
function advanced(states: readonly ScopeState[], batch: ScopedBatch): ScopeState[] {
  const complete = new Set(batch.complete ?? []);
  const changed: ScopeState[] = [];
  for (const { refusedAt: _refusedAt, ...state } of states) {
    const cursor = batch.cursors[state.key];
    if (cursor === undefined) continue;
    changed.push({ ...state, cursor, complete: state.complete || complete.has(state.key) });
  }
  return changed;
}

/**
 * The scope rows of the aggregates a batch touches, changed item by item in memory, then
 * written once: `write` stores the difference and answers the aggregates left in no scope.
 */
async function trackMembership(context: SyncContext, items: readonly ScopedItem[]) {
  const { db } = context.strata;
  const refs = new Map<string, StreamRef>();
  for (const item of items) {
    const stream = item.kind === 'event' ? item.event : item;
    refs.set(streamKey(stream), {
      aggregateType: stream.aggregateType,
      aggregateId: stream.aggregateId,
    });
  }
  const rows = await db.scopeMembers
    .where('[aggregateType+aggregateId]')
    .anyOf([...refs.values()].map((ref) => [ref.aggregateType, ref.aggregateId]))
    .toArray();
  const before = new Map<string, Set<string>>();
  for (const row of rows) {
    if (row.scope === LEAVING) continue;
    const key = streamKey(row);
    before.set(key, (before.get(key) ?? new Set()).add(row.scope));
  }
  const after = new Map<string, Set<string>>();
  const joined = new Set<string>();
  const touched = (stream: StreamRef) => {
    const key = streamKey(stream);
    let scopes = after.get(key);
    if (scopes === undefined) {
      scopes = new Set(before.get(key));
      after.set(key, scopes);
    }
    return scopes;
  };
  return {
    join(stream: StreamRef, scopes: readonly string[]) {
      const current = touched(stream);
      for (const scope of scopes) current.add(scope);
      joined.add(streamKey(stream));
    },
    leave(stream: StreamRef, scope: string) {
      touched(stream).delete(scope);
    },
    async write(): Promise<StreamRef[]> {
      const added: ScopeMemberRow[] = [];
      const removed: [string, string, string][] = [];
      const orphans: StreamRef[] = [];
      for (const [key, scopes] of after) {
        const { aggregateType, aggregateId } = refs.get(key) as StreamRef;
        const old = before.get(key) ?? new Set();
        for (const scope of scopes) {
          if (!old.has(scope)) added.push({ scope, aggregateType, aggregateId });
        }
        for (const scope of old) {
          if (!scopes.has(scope)) removed.push([scope, aggregateType, aggregateId]);
        }
        // A `left` of an aggregate the device never held (e.g. one it created and has not
        // seen come back) changes nothing: only what a held scope brought is let go.
        if (scopes.size === 0 && (old.size > 0 || joined.has(key))) {
          orphans.push({ aggregateType, aggregateId });
        }
      }
      await db.scopeMembers.bulkDelete(removed);
      await db.scopeMembers.bulkPut(added);
      return orphans;
    },
  };
}
