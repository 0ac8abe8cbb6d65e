// A back-fill from snapshots can bring an aggregate's later events without what stands for the
// earlier ones: the server's snapshot was replaced by one of another fingerprint, or deleted,
// between two pages of the back-fill; the app's request changed between two pages (an update,
// a leader tab of another version); the device held part of the aggregate already, so it did
// not start it from the snapshot; or an app update retired a base (its fingerprint is no longer
// the app's). Such an aggregate would have a hole no base covers and could not load. The hole
// is noted, the batch leaves that aggregate's events out, and the hole is filled right after
// from the server's history, as upstream events (pending commands the server stored are
// recognised by their command id, others rebased) then projected again from the first event.
import { canonicalJson, type StreamRef, streamKey } from '@strata/core';
import { basesOf, bootstrapTypes } from '../bases/server-bases.ts';
import { withStorageErrors } from '../database/storage-errors.ts';
import type { EventRow, StrataDatabase } from '../database/strata-database.ts';
import { streamRange } from '../event-store/dexie-event-store.ts';
import type { StrataTransaction } from '../event-store/strata-transaction.ts';
import { storeUpstreamEvents, type UpstreamResult } from './apply-upstream.ts';
import { historyBelow } from './older-history.ts';
import { pendingIdsAmong } from './pending-commands.ts';
import { toConfirmedRow } from './rebase.ts';
import { reproject } from './reproject.ts';
import { LEAVING } from './scope-members.ts';
import type { SyncContext, UpstreamEvent } from './sync-context.ts';
import type { SyncTransport } from './sync-transport.ts';

/** The syncState row listing aggregates with a hole to fill. */
const HOLES_KEY = 'scopes:historyHoles';
/** The syncState row naming the bootstrap types and fingerprints the bases were last checked for. */
const BASES_CHECKED_KEY = 'scopes:basesCheckedFor';

/**
 * Notes, inside the caller's transaction and before `events` are stored, the aggregates they
 * would leave with a hole: the first of an aggregate's events follows neither a confirmed event
 * here nor a base at or after the version before it. One read for the batch (the events just
 * before, and the bases), none when every aggregate's first event is its first. The caller
 * stores none of their events: the fill brings them in order.
 */
export async function noteHoles(
  db: StrataDatabase,
  events: readonly UpstreamEvent[],
): Promise<StreamRef[]> {
  const firsts = new Map<string, UpstreamEvent>();
  for (const event of events) {
    const first = firsts.get(streamKey(event));
    if (first === undefined || event.version < first.version) firsts.set(streamKey(event), event);
  }
  const later = [...firsts.values()].filter((event) => event.version > 1);
  if (later.length === 0) return [];
  const before = await db.events
    .where('[aggregateType+aggregateId+version]')
    .anyOf(later.map((event) => [event.aggregateType, event.aggregateId, event.version - 1]))
    .toArray();
  const pendingBefore = await pendingIdsAmong(db, before);
  const confirmedBefore = new Set(
    before.filter((row) => !pendingBefore.has(row.id)).map((row) => streamKey(row)),
  );
  const bases = await basesOf(db, later);
  const holes = later
    .filter((event) => {
      const base = bases.get(streamKey(event));
      const covered = base !== undefined && base.version >= event.version - 1;
      return !covered && !confirmedBefore.has(streamKey(event));
    })
    .map(({ aggregateType, aggregateId }) => ({ aggregateType, aggregateId }));
  await addHoles(db, holes);
  return holes;
}

async function addHoles(db: StrataDatabase, holes: readonly StreamRef[]): Promise<void> {
  if (holes.length === 0) return;
  const known = ((await db.syncState.get(HOLES_KEY))?.value as StreamRef[] | undefined) ?? [];
  const all = new Map([...known, ...holes].map((ref) => [streamKey(ref), ref]));
  await db.syncState.put({ key: HOLES_KEY, value: [...all.values()] });
}

/**
 * Retires the bases this app can no longer start from (after an update: another fingerprint,
 * or the type no longer opts in or has a projection without `fromState`): each goes, and its
 * aggregate is noted as a hole, so the fill brings the history the base stood for.
 */
export async function retireStaleBases(context: SyncContext): Promise<StreamRef[]> {
  const { db, projections } = context.strata;
  const usable = bootstrapTypes(context.aggregates.values(), projections);
  return withStorageErrors(() =>
    db.transaction('rw', [db.bases, db.syncState], async () => {
      // Adopted bases always have the app's fingerprints (adopt-bases.ts): the scan is due only
      // when the usable set changed since the last one, not on every start.
      const checked = canonicalJson(usable);
      if ((await db.syncState.get(BASES_CHECKED_KEY))?.value === checked) return [];
      const stale = (await db.bases.toArray()).filter(
        (base) => usable[base.aggregateType] !== base.fingerprint,
      );
      const refs = stale.map(({ aggregateType, aggregateId }) => ({ aggregateType, aggregateId }));
      await db.bases.bulkDelete(refs.map((ref) => [ref.aggregateType, ref.aggregateId]));
      await addHoles(db, refs);
      await db.syncState.put({ key: BASES_CHECKED_KEY, value: checked });
      return refs;
    }),
  );
}

/**
 * Fills the noted holes: reads each aggregate's whole history from the server, then in one
 * transaction per aggregate stores the events missing below its confirmed version as history,
 * the rest as upstream events (`storeUpstreamEvents`: confirms, rebases, rejections), and
 * projects it again (`reproject`). A failure (offline) keeps the note for the next batch; an
 * aggregate no held scope holds any more is let go. Answers what storing did.
 */
export async function fillHoles(
  context: SyncContext,
  transport: Pick<SyncTransport, 'streamHistory'>,
): Promise<UpstreamResult> {
  const { db } = context.strata;
  const noted = await withStorageErrors(() => db.syncState.get(HOLES_KEY));
  const holes = (noted?.value as StreamRef[] | undefined) ?? [];
  const result = { imported: 0, confirmed: 0, rebased: [] as StreamRef[], rejected: [] as never[] };
  for (const stream of holes) {
    const server = await historyBelow(transport, stream);
    await withStorageErrors(() =>
      db.transaction('rw', db.tables, async (dexie) => {
        const transaction: StrataTransaction = { dexie, table: (name) => db.table(name) };
        const ref: [string, string] = [stream.aggregateType, stream.aggregateId];
        const members = await db.scopeMembers
          .where('[aggregateType+aggregateId]')
          .equals(ref)
          .toArray();
        if (members.some((row) => row.scope !== LEAVING)) {
          const stored = await storeHistory(context, stream, server, transaction);
          result.imported += stored.imported;
          result.confirmed += stored.confirmed;
          result.rebased.push(...stored.rebased);
          result.rejected.push(...(stored.rejected as never[]));
        }
        const current = ((await db.syncState.get(HOLES_KEY))?.value as StreamRef[]) ?? [];
        const left = current.filter((hole) => streamKey(hole) !== streamKey(stream));
        await (left.length === 0
          ? db.syncState.delete(HOLES_KEY)
          : db.syncState.put({ key: HOLES_KEY, value: left }));
      }),
    );
  }
  return result;
}

/** Stores an aggregate's server history into the hole, inside the caller's transaction. */
async function storeHistory(
  context: SyncContext,
  stream: StreamRef,
  server: readonly UpstreamEvent[],
  transaction: StrataTransaction,
): Promise<UpstreamResult> {
  const { db } = context.strata;
  const rows = await db.events
    .where('[aggregateType+aggregateId+version]')
    .between(...streamRange(stream), true, true)
    .toArray();
  const pending = await pendingIdsAmong(db, rows);
  const confirmed = rows.filter((row) => !pending.has(row.id));
  const tip = confirmed.reduce((max, row) => Math.max(max, row.version), 0);
  const held = new Set(confirmed.map((row) => row.version));
  const below = server.filter((event) => event.version <= tip && !held.has(event.version));
  await db.events.bulkAdd(below.map((event) => toConfirmedRow(event) as EventRow));
  const stored = await storeUpstreamEvents(
    context,
    server.filter((event) => event.version > tip),
    transaction,
  );
  await reproject(context, [stream], transaction);
  return stored;
}

/**
 * The fill a sync session runs after scoped batches (`UpstreamWriterHandlers.fillHoles`): its
 * first run also retires the bases this app version can no longer start from.
 */
export function createHoleFiller(
  context: SyncContext,
  transport: Pick<SyncTransport, 'streamHistory'>,
): () => Promise<UpstreamResult> {
  let retired = false;
  return async () => {
    if (!retired) {
      await retireStaleBases(context);
      retired = true;
    }
    return fillHoles(context, transport);
  };
}
