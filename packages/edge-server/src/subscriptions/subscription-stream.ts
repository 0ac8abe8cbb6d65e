import type { SubscriptionMessage } from '@strata/core';
import { toWireEvent } from '../app/wire-event.ts';
import type { PostgresEventStore } from '../postgres/postgres-event-store.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';
import { encodeTenantCursor } from '../postgres/tenant-cursor.ts';
import { recheckAccess } from './access-recheck.ts';
import type { BoundedSseWriter } from './bounded-sse-writer.ts';
import { createCatchUpBuffer } from './catch-up-buffer.ts';
import type { EventFeed } from './event-feed.ts';
import { approximateEventBytes, createLiveBacklog } from './live-backlog.ts';

/** What one subscription needs. */
export interface SubscriptionStreamOptions {
  readonly store: PostgresEventStore;
  readonly feed: EventFeed;
  /** Where the client is: a cursor, or absent for the beginning. */
  readonly after: string | undefined;
  readonly heartbeatMs: number;
  /**
   * Most bytes of live events that may wait for this subscriber (while it catches up, or while a
   * catch-up step waits for its reader) before the stream is ended as an overflow.
   */
  readonly maxBacklogBytes: number;
  /** Events the principal may see; the others are skipped (their cursor still counts). */
  readonly canRead?: (event: PostgresStoredEvent) => boolean;
  /**
   * A server with scopes: whether the principal is still granted the whole tenant
   * (`rules.tenant`), checked at every heartbeat. False, or a throw (the rule failed or missed
   * its deadline), ends the stream: with `closing: access-changed` when `accessChangedMessage`,
   * else it just ends (the reconnect is refused with 403, or 503).
   */
  readonly stillGranted?: () => Promise<boolean>;
  /** Whether the client understands `closing: access-changed` (it said so in its features). */
  readonly accessChangedMessage?: boolean;
}

/**
 * Serves one SSE subscription: catch-up from the cursor, then live events from the instance's
 * shared feed. It registers with the feed before catching up and buffers what the feed delivers
 * meanwhile, so an event is either read by the catch-up or delivered live; comparing tenant
 * positions drops the ones seen twice. Every event message carries its tenant cursor as the SSE
 * `id`. The feed delivers in global order, which within a tenant can differ from tenant order
 * (a transaction's id is assigned before it takes the tenant's counter): a live event past a gap
 * in the dense tenant positions means the gap's events are committed already (they held the
 * counter first), so they are read from the store before it; none is dropped or sent twice.
 */
export async function streamSubscription(
  writer: BoundedSseWriter,
  options: SubscriptionStreamOptions,
): Promise<void> {
  // Tenant positions are dense: the client has every event up to `last`.
  let last = await options.store.tenantPositionOf(options.after);
  let live = false;
  // Bounded (issue 12): past the cap the buffer forgets, and the catch-up reads the log again.
  const buffered = createCatchUpBuffer<PostgresStoredEvent>(
    options.maxBacklogBytes,
    approximateEventBytes,
  );
  const backlog = createLiveBacklog<PostgresStoredEvent>(
    options.maxBacklogBytes,
    approximateEventBytes,
  );
  const write = (data: unknown, id?: string) => {
    writer.write(JSON.stringify(data), id); // false once the writer ended: the loop below stops
  };
  /** The SSE id of the last event message written: where a client told to go resumes. */
  let lastId = options.after;
  const send = (event: PostgresStoredEvent) => {
    backlog.release(event);
    if (event.tenantPosition <= last) return;
    last = event.tenantPosition;
    if (options.canRead?.(event) === false) return;
    const cursor = event.tenantCursor;
    write({ kind: 'event', cursor, event: toWireEvent(event) }, cursor);
    lastId = cursor;
  };
  /** Sends what the store holds after `last`, in tenant order. */
  const catchUp = async () => {
    for (;;) {
      const page = await options.store.readAll({ after: encodeTenantCursor(last), limit: 500 });
      for (const event of page.events) {
        send(event);
        // Wait for the reader: a slow one must not make the server hold the log (issue 12).
        await writer.ready();
        if (writer.ended !== undefined) return;
      }
      if (!page.hasMore) return;
    }
  };
  // Live events one at a time, in feed order; a failed re-read ends the stream (the client
  // resumes from the last cursor it got).
  let delivering: Promise<void> = Promise.resolve();
  const deliver = (event: PostgresStoredEvent) => {
    delivering = delivering
      .then(async () => {
        if (event.tenantPosition > last + 1) await catchUp();
        // Paced like the catch-up: a burst waits here as the feed's own objects (counted by the
        // backlog), not as this subscriber's encoded copies.
        await writer.ready();
        send(event);
      })
      .catch(() => writer.close());
  };

  const subscription = await options.feed.subscribe(options.store.tenant, (event) => {
    if (!live) buffered.push(event);
    else if (backlog.admit(event)) deliver(event);
    else writer.overflow(); // the reader is behind by more than the cap: it resumes later
  });
  try {
    await catchUp();
    // An overflowed buffer forgot events the log holds: read on until one did not overflow.
    let pending = buffered.take();
    while (pending === undefined && writer.ended === undefined) {
      await catchUp();
      pending = buffered.take();
    }
    for (const event of pending ?? []) deliver(event);
    live = true;
    await delivering;
    write({ kind: 'caught-up', cursor: encodeTenantCursor(last) });
    while (writer.ended === undefined) {
      await writer.wait(options.heartbeatMs);
      if (writer.ended !== undefined) break;
      if (options.stillGranted !== undefined) {
        // Raced against the client leaving: a rule that answers late holds nothing meanwhile.
        const check = await recheckAccess(writer, options.stillGranted);
        if (check.outcome === 'ended') break;
        if (check.outcome !== 'granted') {
          writer.close(options.accessChangedMessage === true ? accessChanged(lastId) : undefined);
          if (check.outcome === 'failed') throw check.error; // reported by the responder
          break;
        }
      }
      write({ kind: 'heartbeat' });
    }
  } finally {
    subscription.unsubscribe();
  }
}

/** The last message of a stream whose whole-tenant grant was withdrawn. */
function accessChanged(resumeAfter: string | undefined): string {
  const message: SubscriptionMessage = {
    kind: 'closing',
    reason: 'access-changed',
    ...(resumeAfter === undefined ? {} : { resumeAfter }),
  };
  return JSON.stringify(message);
}
