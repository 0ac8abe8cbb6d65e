import type { ScopedSubscriptionMessage } from '@strata/core';
import { toScopedItem } from '../app/scoped-item.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import { readScopes } from '../scopes/read-scopes.ts';
import { recheckAccess } from './access-recheck.ts';
import type { BoundedSseWriter } from './bounded-sse-writer.ts';
import { approximateEventBytes } from './live-backlog.ts';
import type { ScopeFeed } from './scope-feed.ts';

/** What one scoped subscription needs. */
export interface ScopedSubscriptionStreamOptions {
  readonly database: SqlExecutor;
  readonly tenant: string;
  /** The scope keys followed, each checked and granted already. */
  readonly scopes: readonly string[];
  readonly scopeFeed: ScopeFeed;
  /** Where the client is in all of its scopes (one cursor), or absent for their start. */
  readonly after: string | undefined;
  /** Heartbeat interval on an idle stream; the scope rules are checked again as often. */
  readonly heartbeatMs: number;
  /**
   * Most bytes of live events touching the scopes that may wait for this subscriber once it is
   * live (it is behind by that much) before its stream ends as a slow reader.
   */
  readonly maxBacklogBytes: number;
  /**
   * Whether the principal may still hold every scope; false, or a throw (a rule that failed or
   * missed its deadline), ends the stream with `closing: access-changed`.
   */
  readonly stillGranted: () => Promise<boolean>;
  /** Events the principal may read; the others are skipped (their place still counts). */
  readonly canRead?: (event: PostgresStoredEvent) => boolean;
  /** Items per read. Defaults to 500. */
  readonly pageSize?: number;
}

/**
 * Serves one `GET /v2/subscribe` stream: the scopes' items from the client's cursor, then live.
 * Every item comes from a read of the scope logs (`readScopes`), never from the feed's copy of an
 * event: the feed only says that something touching these scopes was committed at a position
 * (scope-feed.ts), and the stream reads on from its cursor. So there is no gap (a read returns
 * every row after the cursor up to the snapshot's horizon, whatever order the feed delivers in),
 * no repeat (reads continue from the cursor), and nothing waits in memory but a position and a
 * byte count: a reader slower than its scopes' live traffic by more than `maxBacklogBytes` is
 * ended as a slow reader (`closing`, resume after the last id it got), like v1 subscriptions.
 *
 * A position can carry several items (an event and the `left` of the scopes it moved out of);
 * only the last of them carries the SSE id, so a client that resumes from its last id never
 * skips the rest of a position.
 */
export async function streamScopedSubscription(
  writer: BoundedSseWriter,
  options: ScopedSubscriptionStreamOptions,
): Promise<void> {
  const pageSize = options.pageSize ?? 500;
  let cursor = options.after;
  /** The last SSE id written (the client's resume point once it has read it). */
  let lastId = options.after;
  /** Every row of the scopes up to this tenant position has been read. */
  let complete = -1;
  /** The highest position a live event touching the scopes was committed at. */
  let wanted = 0;
  let live = false;
  /** Live events not yet read, as (position, bytes): the subscriber's lag. */
  let lag: [number, number][] = [];
  let lagBytes = 0;

  const write = (message: ScopedSubscriptionMessage, id?: string) => {
    // False once ended: the loops below stop.
    if (writer.write(JSON.stringify(message), id) && id !== undefined) lastId = id;
  };

  /** Reads and sends until every row up to the highest wanted position is sent. */
  const readOn = async () => {
    for (;;) {
      const page = await readScopes(
        options.database,
        options.tenant,
        options.scopes.map((scope) =>
          cursor === undefined ? { scope } : { scope, after: cursor },
        ),
        pageSize,
      );
      // Only what the principal may read is sent; the last sent item of a cursor carries it.
      const sent = page.items.flatMap((item) => toScopedItem(item, options.canRead) ?? []);
      for (const [index, message] of sent.entries()) {
        const last = sent[index + 1]?.cursor !== message.cursor;
        write(message, last ? message.cursor : undefined);
        // Wait for the reader: a slow one must not make the server hold its scopes' rows.
        await writer.ready();
        if (writer.ended !== undefined) return;
      }
      // A page of nothing readable writes nothing: a client gone meanwhile shows only here.
      if (writer.ended !== undefined) return;
      // Every scope of the read has the same next cursor once it is caught up.
      cursor = page.cursors[options.scopes[0] as string] ?? cursor;
      if (page.hasMore) continue;
      complete = page.horizon;
      lag = lag.filter(([position]) => position > complete);
      lagBytes = lag.reduce((sum, [, bytes]) => sum + bytes, 0);
      if (wanted <= complete) return;
    }
  };

  let reading: Promise<void> = Promise.resolve();
  const kick = () => {
    reading = reading
      .then(() => (wanted > complete && writer.ended === undefined ? readOn() : undefined))
      .catch(() => writer.close()); // the client resumes from the last id it got
  };

  const subscription = await options.scopeFeed.subscribe(
    options.tenant,
    options.scopes,
    (event) => {
      if (event.tenantPosition <= complete || writer.ended !== undefined) return;
      if (live) {
        const bytes = approximateEventBytes(event);
        if (lagBytes + bytes > options.maxBacklogBytes) {
          writer.overflow(); // behind by more than the cap: it resumes later, from the log
          return;
        }
        lag.push([event.tenantPosition, bytes]);
        lagBytes += bytes;
      }
      wanted = Math.max(wanted, event.tenantPosition);
      if (live) kick();
    },
  );
  try {
    // Registered with the feed first: whatever commits from now on is either in this read or
    // announced by the feed (and then read).
    await readOn();
    if (writer.ended !== undefined) return;
    write({ kind: 'caught-up', cursor: cursor ?? 's0.0' });
    live = true;
    kick();
    while (writer.ended === undefined) {
      await writer.wait(options.heartbeatMs);
      if (writer.ended !== undefined) break;
      // Raced against the client leaving: a rule that answers late holds nothing meanwhile.
      const check = await recheckAccess(writer, options.stillGranted);
      if (check.outcome === 'ended') break;
      if (check.outcome !== 'granted') {
        // The client reconnects and hears why: which scopes it lost (403 with `scopes`, it keeps
        // the rest), or that the rules cannot answer now (503). A failed rule is reported (the
        // responder's onError) once the stream has said goodbye.
        writer.close(
          JSON.stringify({
            kind: 'closing',
            reason: 'access-changed',
            ...(lastId === undefined ? {} : { resumeAfter: lastId }),
          } satisfies ScopedSubscriptionMessage),
        );
        if (check.outcome === 'failed') throw check.error;
        break;
      }
      write({ kind: 'heartbeat' });
    }
  } finally {
    subscription.unsubscribe();
    await reading;
  }
}
