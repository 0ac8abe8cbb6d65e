// A back-fill from snapshots can bring an aggregate's later events without the snapshot that
// stands for the earlier ones: the server's snapshot was replaced by one of another fingerprint,
// or deleted, between two pages of the back-fill (each page is consistent, the pages are not
// one read). Such an aggregate would have a hole no base covers and could not load. The hole is
// noted with the batch that made it and filled from the server's history right after.
import { type StreamRef, streamKey } from '@strata/core';
import { basesOf } from '../bases/server-bases.ts';
import { withStorageErrors } from '../database/storage-errors.ts';
import type { StrataDatabase } from '../database/strata-database.ts';
import { streamRange } from '../event-store/dexie-event-store.ts';
import { historyBelow } from './older-history.ts';
import { reproject } from './reproject.ts';
import type { SyncContext, UpstreamEvent } from './sync-context.ts';
import type { SyncTransport } from './sync-transport.ts';

/** The syncState row listing aggregates with a hole to fill. */
const HOLES_KEY = 'scopes:historyHoles';

/**
 * Notes, inside the caller's transaction and before `events` are stored, the aggregates they
 * would leave with a hole: the first of an aggregate's new events follows neither a confirmed
 * event here nor a base at or after the version before it. One read for the batch (the events
 * just before, and the bases), none when every aggregate's first new event is its first.
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
  const confirmedBefore = new Set(
    before.filter((row) => row.pending === 0).map((row) => streamKey(row)),
  );
  const bases = await basesOf(db, later);
  const holes = later
    .filter((event) => {
      const base = bases.get(streamKey(event));
      const covered = base !== undefined && base.version >= event.version - 1;
      return !covered && !confirmedBefore.has(streamKey(event));
    })
    .map(({ aggregateType, aggregateId }) => ({ aggregateType, aggregateId }));
  if (holes.length > 0) {
    const known = ((await db.syncState.get(HOLES_KEY))?.value as StreamRef[] | undefined) ?? [];
    const all = new Map([...known, ...holes].map((ref) => [streamKey(ref), ref]));
    await db.syncState.put({ key: HOLES_KEY, value: [...all.values()] });
  }
  return holes;
}

/**
 * Fills the noted holes: reads each aggregate's history from the server up to its lowest event
 * here, stores the events missing, and projects the aggregate again from its first event, in
 * one transaction per aggregate. A failure (offline) keeps the note for the next batch; an
 * aggregate dropped meanwhile is let go.
 */
export async function fillHoles(
  context: SyncContext,
  transport: Pick<SyncTransport, 'streamHistory'>,
): Promise<number> {
  const { db } = context.strata;
  const noted = await withStorageErrors(() => db.syncState.get(HOLES_KEY));
  const holes = (noted?.value as StreamRef[] | undefined) ?? [];
  let filled = 0;
  for (const stream of holes) {
    const lowest = await withStorageErrors(() =>
      db.events
        .where('[aggregateType+aggregateId+version]')
        .between(...streamRange(stream), true, true)
        .first(),
    );
    const older = await historyBelow(transport, stream, lowest?.version ?? 1);
    await withStorageErrors(() =>
      db.transaction('rw', db.tables, async (dexie) => {
        const stored = new Set(
          (
            await db.events
              .where('[aggregateType+aggregateId+version]')
              .between(...streamRange(stream), true, true)
              .toArray()
          ).map((row) => row.version),
        );
        if (stored.size > 0) {
          await db.events.bulkAdd(older.filter((row) => !stored.has(row.version)));
          await reproject(context, [stream], { dexie, table: (name) => db.table(name) });
          filled++;
        }
        const current = ((await db.syncState.get(HOLES_KEY))?.value as StreamRef[]) ?? [];
        const left = current.filter((ref) => streamKey(ref) !== streamKey(stream));
        await (left.length === 0
          ? db.syncState.delete(HOLES_KEY)
          : db.syncState.put({ key: HOLES_KEY, value: left }));
      }),
    );
  }
  return filled;
}
