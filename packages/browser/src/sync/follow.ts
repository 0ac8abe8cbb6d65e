import type { SubscriptionMessage } from '@strata/core';
import { followLiveStream } from './live-stream.ts';
import type { ApplyUpstreamBatch, UpstreamEvent } from './sync-context.ts';
import type { SyncTransport } from './sync-transport.ts';

export interface FollowOptions {
  readonly transport: Pick<SyncTransport, 'subscribe'>;
  readonly apply: ApplyUpstreamBatch;
  /** Most events stored in one batch (one transaction). */
  readonly batchLimit: number;
  /**
   * Reconnect when the stream was silent this long: the server sends heartbeats, so silence
   * means a dead connection.
   */
  readonly idleTimeoutMs: number;
  /** Stopping sync closes the stream. */
  readonly signal: AbortSignal;
  /** Called with the stream's controller as it opens: aborting it closes the stream (offline). */
  readonly onOpen?: (stream: AbortController) => void;
  /** Called when the server says the client has its latest events. */
  readonly onCaughtUp: () => Promise<void>;
}

/**
 * Follows the server's live stream (`/v1/subscribe`) after `after`, storing its events, until
 * the stream ends, goes silent, is aborted, or storing a batch fails (thrown, after the stream
 * closed). A stream error is thrown unless the stream was aborted.
 *
 * @example
 * await follow(cursor, { transport, apply, batchLimit: 1000, idleTimeoutMs: 45_000, signal, onCaughtUp });
 */
export async function follow(after: string | undefined, options: FollowOptions): Promise<void> {
  await followLiveStream<SubscriptionMessage, { event: UpstreamEvent; cursor: string }>({
    messages: (signal) => options.transport.subscribe(after, signal),
    onMessage: async (message, store) => {
      if (message.kind === 'event') store({ event: message.event, cursor: message.cursor });
      else if (message.kind === 'caught-up') await options.onCaughtUp();
    },
    write: (batch) =>
      options.apply(
        batch.map((entry) => entry.event),
        batch[batch.length - 1]?.cursor as string,
      ),
    batchLimit: options.batchLimit,
    idleTimeoutMs: options.idleTimeoutMs,
    signal: options.signal,
    ...(options.onOpen === undefined ? {} : { onOpen: options.onOpen }),
  });
}
