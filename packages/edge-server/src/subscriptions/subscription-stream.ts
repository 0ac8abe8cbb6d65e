import type { SSEStreamingApi } from 'hono/streaming';
import { toWireEvent } from '../app/wire-event.ts';
import {
  compareGlobalCursors,
  decodeGlobalCursor,
  encodeGlobalCursor,
} from '../postgres/global-cursor.ts';
import type { PostgresEventStore, PostgresStoredEvent } from '../postgres/postgres-event-store.ts';
import type { EventFeed } from './event-feed.ts';

/** What one subscription needs. */
export interface SubscriptionStreamOptions {
  readonly store: PostgresEventStore;
  readonly feed: EventFeed;
  /** Where the client is: a cursor, or absent for the beginning. */
  readonly after: string | undefined;
  readonly heartbeatMs: number;
  /** Events the principal may see; the others are skipped (their cursor still counts). */
  readonly canRead?: (event: PostgresStoredEvent) => boolean;
}

/**
 * Serves one SSE subscription: catch-up from the cursor, then live events from the instance's
 * shared feed. It registers with the feed before catching up and buffers what the feed delivers
 * meanwhile, so an event is either read by the catch-up or delivered live; comparing cursors
 * drops the ones seen twice. Every event message carries its cursor as the SSE `id`.
 */
export async function streamSubscription(
  stream: SSEStreamingApi,
  options: SubscriptionStreamOptions,
): Promise<void> {
  let last = decodeGlobalCursor(options.after);
  let live = false;
  const buffered: PostgresStoredEvent[] = [];
  let writes: Promise<void> = Promise.resolve();
  const write = (data: unknown, id?: string) => {
    writes = writes.then(() =>
      stream.writeSSE({ data: JSON.stringify(data), ...(id === undefined ? {} : { id }) }),
    );
  };
  const send = (event: PostgresStoredEvent) => {
    const cursor = decodeGlobalCursor(event.cursor);
    if (compareGlobalCursors(cursor, last) <= 0) return;
    last = cursor;
    if (options.canRead?.(event) === false) return;
    write({ kind: 'event', cursor: event.cursor, event: toWireEvent(event) }, event.cursor);
  };

  const subscription = await options.feed.subscribe(options.store.tenant, (event) => {
    if (live) send(event);
    else buffered.push(event);
  });
  stream.onAbort(() => subscription.unsubscribe());
  try {
    for (let after = encodeGlobalCursor(last); ; ) {
      const page = await options.store.readAll({ after, limit: 500 });
      for (const event of page.events) send(event);
      await writes;
      after = page.cursor;
      if (!page.hasMore) break;
    }
    for (const event of buffered.splice(0)) send(event);
    live = true;
    write({ kind: 'caught-up', cursor: encodeGlobalCursor(last) });
    while (!stream.aborted && !stream.closed) {
      await writes;
      await stream.sleep(options.heartbeatMs);
      if (stream.aborted || stream.closed) break;
      write({ kind: 'heartbeat' });
    }
  } finally {
    subscription.unsubscribe();
  }
}
