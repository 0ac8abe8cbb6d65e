import { createBatchWriter } from './batch-writer.ts';

/** One live stream's plumbing, the same for `/v1/subscribe` and `/v2/subscribe`. */
export interface LiveStreamOptions<M, T> {
  /** Opens the stream; it must end when the signal aborts. */
  readonly messages: (signal: AbortSignal) => AsyncIterable<M>;
  /** Handles one message: `store` queues an entry for the next batch. */
  readonly onMessage: (message: M, store: (entry: T) => void) => Promise<void> | void;
  /** Stores a batch of entries (one transaction). */
  readonly write: (batch: T[]) => Promise<void>;
  /** Most entries per batch. */
  readonly batchLimit: number;
  /** Reconnect when the stream was silent this long (the server sends heartbeats). */
  readonly idleTimeoutMs: number;
  /** Stopping sync closes the stream, also when it was stopped before the stream opened. */
  readonly signal: AbortSignal;
  /** Called with the stream's controller as it opens: aborting it closes the stream (offline). */
  readonly onOpen?: (stream: AbortController) => void;
}

/**
 * Reads a live stream until it ends, goes silent, is aborted, or storing a batch fails (thrown,
 * after the stream closed); entries that came meanwhile queue into one batch. A stream error
 * is thrown unless the stream was aborted.
 *
 * @example
 * await followLiveStream({ messages: (signal) => transport.subscribe(after, signal), onMessage, write, ... });
 */
export async function followLiveStream<M, T>(options: LiveStreamOptions<M, T>): Promise<void> {
  // Stopped between the catch-up and this stream: nothing opens (it would outlive the stop).
  if (options.signal.aborted) return;
  const stream = new AbortController();
  options.onOpen?.(stream);
  const abort = () => stream.abort();
  options.signal.addEventListener('abort', abort);
  let idleTimer = setTimeout(abort, options.idleTimeoutMs);
  const writer = createBatchWriter<T>(options.write, options.batchLimit, abort);
  try {
    for await (const message of options.messages(stream.signal)) {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(abort, options.idleTimeoutMs);
      await options.onMessage(message, writer.add);
    }
  } catch (error) {
    if (!stream.signal.aborted) throw error;
  } finally {
    clearTimeout(idleTimer);
    options.signal.removeEventListener('abort', abort);
    await writer.idle();
  }
  writer.throwIfFailed();
}
