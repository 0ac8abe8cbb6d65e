import type { ScopedItem } from '@strata/core';
import type { ScopedBatch } from './apply-scoped.ts';
import { followLiveStream } from './live-stream.ts';
import type { ScopedStreamMessage, SyncTransport } from './sync-transport.ts';

export interface ScopedFollowOptions {
  readonly transport: Pick<SyncTransport, 'subscribeScopes'>;
  /** Stores a batch and the scopes' cursors, in one go (see `applyScopedItems`). */
  readonly apply: (batch: ScopedBatch) => Promise<unknown>;
  /** Most positions stored in one batch (one transaction); a position's items are never split. */
  readonly batchLimit: number;
  /** Reconnect when the stream was silent this long (the server sends heartbeats). */
  readonly idleTimeoutMs: number;
  /** Ends the stream (stopping sync, or a change of the scope set). */
  readonly signal: AbortSignal;
  /** Called with the stream's controller as it opens: aborting it closes the stream (offline). */
  readonly onOpen?: (stream: AbortController) => void;
  /** Called when the server says the client has the scopes' latest items. */
  readonly onCaughtUp: () => Promise<void>;
}

/**
 * Follows the live stream of `scopes` (`GET /v2/subscribe`) after the one cursor they share,
 * storing its items with that cursor for every scope, until the stream ends, goes silent, is
 * aborted, or storing a batch fails (thrown, after the stream closed). A stream error (e.g. a
 * refused scope's 403) is thrown unless the stream was aborted.
 *
 * A position's items share one cursor, and only its last carries the SSE id: items are stored
 * a whole position at a time, once that last one came (or the next position began). Storing a
 * position's first items with its cursor would make a resume skip the rest of it (e.g. the
 * `left` of the scopes its event moved out of); what a cut stream leaves half-read comes again
 * from the stored cursor.
 *
 * @example
 * await followScopes(['project:{"projectId":"p1"}'], cursor, { transport, apply, batchLimit: 1000, ... });
 */
export async function followScopes(
  scopes: readonly string[],
  after: string | undefined,
  options: ScopedFollowOptions,
): Promise<void> {
  /** The items read of the position not yet complete. */
  let open: ScopedItem[] = [];
  const closePosition = (store: (position: readonly ScopedItem[]) => void) => {
    if (open.length > 0) store(open);
    open = [];
  };
  await followLiveStream<ScopedStreamMessage, readonly ScopedItem[]>({
    messages: (signal) => options.transport.subscribeScopes(scopes, after, signal),
    onMessage: async ({ message, id }, store) => {
      if (message.kind === 'event' || message.kind === 'left' || message.kind === 'snapshot') {
        if (open[0] !== undefined && open[0].cursor !== message.cursor) closePosition(store);
        open.push(message);
        if (id !== undefined) closePosition(store);
      } else if (message.kind === 'caught-up') {
        // Sent between positions: whatever was read is whole.
        closePosition(store);
        await options.onCaughtUp();
      }
    },
    write: (positions) => {
      const items = positions.flat();
      const cursor = items[items.length - 1]?.cursor as string;
      return options
        .apply({ items, cursors: Object.fromEntries(scopes.map((scope) => [scope, cursor])) })
        .then(() => undefined);
    },
    batchLimit: options.batchLimit,
    idleTimeoutMs: options.idleTimeoutMs,
    signal: options.signal,
    ...(options.onOpen === undefined ? {} : { onOpen: options.onOpen }),
  });
}
