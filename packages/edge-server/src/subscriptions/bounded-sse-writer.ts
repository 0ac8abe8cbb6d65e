/**
 * The writing side of an SSE subscription with a bounded buffer (issue 12, item 4).
 *
 * Why not hono's `streamSSE`: its `writeSSE` does wait for the transport (measured on Node: with a
 * reader that stops, the awaited writes stall once ~3.9 MB sit in the kernel's socket buffers),
 * but a subscriber fed from a shared live feed cannot wait, so bytes must queue somewhere; and a
 * queue in front of `streamSSE` can neither be dropped once written nor be cut while the runtime
 * waits for the socket to drain (`StreamingApi.abort` only flags the stream). Here the response
 * body is a pull stream: the runtime takes a chunk only when its transport has room
 * (`@hono/node-server` stops reading while `res.write` answers false until `drain`; workerd, Bun
 * and Deno pull the same way), so what is not taken stays in this writer's own queue, counted in
 * bytes. Past the cap the queue is dropped, an optional final message is queued, and the stream
 * ends after what the runtime already holds: a client sees a prefix of whole messages, so it
 * resumes from the SSE `id` of the last one it got, with nothing lost or doubled. A client that
 * does not read that end within `closeGraceMs` has its connection cut (the body errors).
 *
 * A transport that takes nothing at all for `stallMs` while a message waits (heartbeats make sure
 * one does) has its connection cut too: a runtime may neither cancel the body nor abort the
 * request when its client leaves (seen in workerd under load), and such a stream would otherwise
 * hold its subscription slot, and on Workers its database connection, for ever.
 */

/** Options of `createBoundedSseWriter`. */
export interface BoundedSseWriterOptions {
  /**
   * Most bytes queued and not yet taken by the runtime's transport; one more write past it
   * overflows the writer. Must be positive.
   */
  readonly maxBufferedBytes: number;
  /**
   * `ready()` resolves once the queue is at or below this many bytes. Defaults to the smaller of
   * 64 KiB and a quarter of `maxBufferedBytes`.
   */
  readonly lowWaterBytes?: number;
  /**
   * After an overflow or `close()`, how long the client may take to read what is left before
   * the connection is cut. Defaults to 30 000 ms.
   */
  readonly closeGraceMs?: number;
  /**
   * How long the transport may take nothing while a message waits before the connection is cut
   * (the body errors, `ended` is `'stalled'`). Defaults to none: no stall check.
   */
  readonly stallMs?: number;
  /** The SSE id the client resumes from if no message with an id is delivered. */
  readonly initialId?: string;
  /**
   * The `data` of one last message sent after an overflow, given the id of the last message the
   * transport took (the client's resume point); undefined for none. Defaults to none.
   */
  readonly overflowMessage?: (lastDeliveredId: string | undefined) => string | undefined;
}

/**
 * Why a writer stopped: its buffer overflowed, the client went away, the server closed it, or its
 * transport took nothing for `stallMs`.
 */
export type SseWriterEnd = 'overflow' | 'cancelled' | 'closed' | 'stalled';

/** A bounded queue of SSE messages in front of a pull-based response body. */
export interface BoundedSseWriter {
  /** The response body (`text/event-stream`). */
  readonly body: ReadableStream<Uint8Array>;
  /**
   * Queues one message; `data` must not contain line breaks (JSON has none). Answers false when
   * the writer has ended, including by this write's overflow: stop feeding it.
   */
  write(data: string, id?: string): boolean;
  /** Resolves when the queue is down to the low-water mark, or the writer has ended. */
  ready(): Promise<void>;
  /** Resolves after `ms`, or as soon as the writer ends. */
  wait(ms: number): Promise<void>;
  /** Ends the stream after the queued messages (and `finalData`, if given). Idempotent. */
  close(finalData?: string): void;
  /**
   * Ends the writer as an overflow does: the queue is dropped and the overflow message sent
   * (e.g. when live events waiting for this subscriber pass their own cap). Idempotent.
   */
  overflow(): void;
  /**
   * Calls `listener` once the writer ends (at once if it has), e.g. to free what the stream holds
   * while its producer still waits on something; answers a function that stops listening.
   */
  onEnded(listener: () => void): () => void;
  /** Why the writer ended; undefined while it runs. */
  readonly ended: SseWriterEnd | undefined;
  /** Bytes queued and not yet taken by the transport. */
  readonly bufferedBytes: number;
  /** The SSE id of the last message the transport took (else `initialId`). */
  readonly lastDeliveredId: string | undefined;
}

/** Largest chunk handed to the runtime at once: several small messages travel together. */
const MAX_CHUNK_BYTES = 64 * 1024;
const DEFAULT_CLOSE_GRACE_MS = 30_000;
/** `ready()` during a catch-up is mostly already true: no new promise per event then. */
const SETTLED: Promise<void> = Promise.resolve();

interface Queued {
  readonly bytes: Uint8Array;
  readonly id: string | undefined;
}

/**
 * A writer for one SSE response. Answer `new Response(writer.body, { headers: SSE_HEADERS })`.
 *
 * @example
 * const writer = createBoundedSseWriter({ maxBufferedBytes: 1024 * 1024 });
 * if (!writer.write(JSON.stringify(message), message.cursor)) unsubscribe();
 * return new Response(writer.body, { headers: SSE_HEADERS });
 */
export function createBoundedSseWriter(options: BoundedSseWriterOptions): BoundedSseWriter {
  if (!(options.maxBufferedBytes > 0)) throw new RangeError('maxBufferedBytes must be positive');
  if (options.stallMs !== undefined && !(options.stallMs > 0)) {
    throw new RangeError('stallMs must be positive');
  }
  const lowWater =
    options.lowWaterBytes ?? Math.min(MAX_CHUNK_BYTES, Math.floor(options.maxBufferedBytes / 4));
  const encoder = new TextEncoder();
  let queue: Queued[] = [];
  let buffered = 0;
  let lastDeliveredId = options.initialId;
  let ended: SseWriterEnd | undefined;
  /** Set once no more messages are accepted: the body closes when the queue is empty. */
  let closing = false;
  let finished = false;
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let wakePull: (() => void) | undefined;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Since when a message has waited with the transport taking nothing; undefined: none waits. */
  let waitingSince: number | undefined;
  let stallTimer: ReturnType<typeof setTimeout> | undefined;
  const waiters = new Set<() => void>();

  const notify = () => {
    for (const waiter of [...waiters]) waiter();
  };
  const finish = () => {
    finished = true;
    if (graceTimer !== undefined) clearTimeout(graceTimer);
    if (stallTimer !== undefined) clearTimeout(stallTimer);
    queue = [];
    buffered = 0;
    notify();
  };
  const end = (why: SseWriterEnd, finalData: string | undefined) => {
    if (ended !== undefined) return;
    ended = why;
    closing = true;
    if (finalData !== undefined) enqueue(finalData, undefined);
    graceTimer = setTimeout(() => {
      if (finished) return;
      // The client has not read the end of the stream: cut the connection.
      controller?.error(new Error('SSE subscriber did not read the end of its stream in time'));
      finish();
    }, options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
    notify();
    wakePull?.();
  };
  const overflow = () => {
    if (ended !== undefined) return;
    // Too slow a reader: what it has not been given is dropped (it resumes from its last id).
    queue = [];
    buffered = 0;
    end('overflow', options.overflowMessage?.(lastDeliveredId));
  };
  // One timer per writer, re-armed only when it fires: a read just moves `waitingSince`, so a
  // fast stream costs no timer per chunk.
  const checkStall = () => {
    stallTimer = undefined;
    if (finished || waitingSince === undefined || options.stallMs === undefined) return;
    const waited = Date.now() - waitingSince;
    if (waited < options.stallMs) {
      stallTimer = setTimeout(checkStall, options.stallMs - waited);
      return;
    }
    ended ??= 'stalled';
    closing = true;
    controller?.error(new Error(`SSE subscriber took nothing for ${options.stallMs} ms`));
    finish();
    wakePull?.();
  };
  const enqueue = (data: string, id: string | undefined) => {
    const message = `data: ${data}\n${id === undefined ? '' : `id: ${id}\n`}\n`;
    const bytes = encoder.encode(message);
    queue.push({ bytes, id });
    buffered += bytes.byteLength;
    waitingSince ??= Date.now();
    if (stallTimer === undefined && options.stallMs !== undefined && !finished) {
      stallTimer = setTimeout(checkStall, options.stallMs);
    }
  };

  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      async pull(c) {
        while (queue.length === 0 && !closing) {
          await new Promise<void>((resolve) => {
            wakePull = resolve;
          });
          wakePull = undefined;
        }
        if (finished) return;
        if (queue.length === 0) {
          c.close();
          finish();
          return;
        }
        let size = 0;
        let count = 0;
        for (const { bytes } of queue) {
          if (count > 0 && size + bytes.byteLength > MAX_CHUNK_BYTES) break;
          size += bytes.byteLength;
          count++;
        }
        const taken = queue.splice(0, count);
        const chunk = new Uint8Array(size);
        let offset = 0;
        for (const { bytes, id } of taken) {
          chunk.set(bytes, offset);
          offset += bytes.byteLength;
          if (id !== undefined) lastDeliveredId = id;
        }
        buffered -= size;
        waitingSince = queue.length === 0 ? undefined : Date.now();
        c.enqueue(chunk);
        if (buffered <= lowWater) notify();
      },
      cancel() {
        ended ??= 'cancelled';
        closing = true;
        finish();
        wakePull?.();
      },
    },
    // Nothing waits inside the stream itself: a chunk leaves the queue only when a read asks.
    { highWaterMark: 0 },
  );

  const untilNotified = (ms: number | undefined, done: () => boolean): Promise<void> =>
    done()
      ? SETTLED
      : new Promise((resolve) => {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const waiter = () => {
            if (!done()) return;
            if (timer !== undefined) clearTimeout(timer);
            waiters.delete(waiter);
            resolve();
          };
          waiters.add(waiter);
          if (ms !== undefined) {
            timer = setTimeout(() => {
              waiters.delete(waiter);
              resolve();
            }, ms);
          }
        });

  return {
    body,
    write(data, id) {
      if (ended !== undefined) return false;
      enqueue(data, id);
      if (buffered > options.maxBufferedBytes) {
        overflow();
        return false;
      }
      wakePull?.();
      return true;
    },
    ready: () => untilNotified(undefined, () => ended !== undefined || buffered <= lowWater),
    wait: (ms) => untilNotified(ms, () => ended !== undefined),
    close(finalData) {
      end('closed', finalData);
    },
    overflow,
    onEnded(listener) {
      if (ended !== undefined) {
        listener();
        return () => undefined;
      }
      const waiter = () => {
        if (ended === undefined) return;
        waiters.delete(waiter);
        listener();
      };
      waiters.add(waiter);
      return () => {
        waiters.delete(waiter);
      };
    },
    get ended() {
      return ended;
    },
    get bufferedBytes() {
      return buffered;
    },
    get lastDeliveredId() {
      return lastDeliveredId;
    },
  };
}

/**
 * The headers of an SSE response (as hono's `streamSSE` sends them).
 *
 * @example
 * return new Response(writer.body, { headers: SSE_HEADERS });
 */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  // `@hono/node-server` otherwise waits for the first chunks to compute a content length.
  'transfer-encoding': 'chunked',
};
