import { MAX_HISTORY_LIMIT, type StreamRef } from '@strata/core';
import { withStorageErrors } from '../database/storage-errors.ts';
import type { EventRow, StrataDatabase } from '../database/strata-database.ts';
import { toConfirmedRow } from './rebase.ts';
import type { UpstreamEvent } from './sync-context.ts';
import type { SyncTransport } from './sync-transport.ts';

/**
 * Reads on demand the history an aggregate's base stands for: an aggregate started from a
 * server snapshot (snapshot bootstrap) holds no events before the snapshot's version, so
 * `strata.history` starts there until this fetches the older ones (`GET /v1/streams/...`) and
 * stores those missing. They are history only: the base already holds their effect, so nothing
 * is projected or replayed. Answers how many events it stored (0 for an aggregate without a
 * base); an aggregate dropped meanwhile gets none.
 *
 * @example
 * await loadOlderHistory(db, transport, { aggregateType: 'Task', aggregateId: 't1' });
 * const events = await strata.history(Task, 't1'); // from version 1
 */
export async function loadOlderHistory(
  db: StrataDatabase,
  transport: Pick<SyncTransport, 'streamHistory'>,
  stream: StreamRef,
  signal?: AbortSignal,
): Promise<number> {
  const key: [string, string] = [stream.aggregateType, stream.aggregateId];
  const base = await withStorageErrors(() => db.bases.get(key));
  if (base === undefined) return 0;
  const older = (await historyBelow(transport, stream, base.version, signal)).map(
    (event) => toConfirmedRow(event) as EventRow,
  );
  return withStorageErrors(() =>
    db.transaction('rw', [db.events, db.bases], async () => {
      if ((await db.bases.get(key)) === undefined) return 0;
      const keys = await db.events
        .where('[aggregateType+aggregateId+version]')
        .between([...key, 1], [...key, base.version], true, false)
        .keys();
      const held = new Set((keys as unknown as [string, string, number][]).map((k) => k[2]));
      const missing = older.filter((row) => !held.has(row.version));
      await db.events.bulkAdd(missing);
      return missing.length;
    }),
  );
}

/** The server's events of `stream` below version `upTo` (all, by default), page by page. */
export async function historyBelow(
  transport: Pick<SyncTransport, 'streamHistory'>,
  stream: StreamRef,
  upTo = Number.MAX_SAFE_INTEGER,
  signal?: AbortSignal,
): Promise<UpstreamEvent[]> {
  const older: UpstreamEvent[] = [];
  for (let from = 1; from < upTo; ) {
    const limit = Math.min(MAX_HISTORY_LIMIT, upTo - from);
    const page = await transport.streamHistory(stream, from, limit, signal);
    older.push(...page.events.filter((event) => event.version < upTo));
    if (!page.hasMore || page.nextVersion <= from) break;
    from = page.nextVersion;
  }
  return older;
}
