/**
 * What to do with a request body the app answered without reading (a 413 from the body limit, a
 * 401 before the body, ...): issue 12, item 10. @hono/node-server drains such bodies itself but
 * gives up after 500 ms and destroys the socket, so a client that sent 1 MB saw its keep-alive
 * connection closed although the response said `keep-alive`. Here the body is read off the wire
 * before the response goes out when it is small enough; beyond the bound the response says
 * `connection: close`, honestly.
 */
import type { IncomingMessage } from 'node:http';

/** The most bytes of an unread body the server reads and discards to keep a connection. */
export const MAX_DRAIN_BYTES = 8 * 1024 * 1024;
/** The longest the server waits for an unread body to arrive before closing instead. */
export const DRAIN_TIMEOUT_MS = 5_000;

/** `none`: nothing left to read; `drain`: read and discard it; `close`: answer `connection: close`. */
export type DrainDecision = 'none' | 'drain' | 'close';

/**
 * The pure policy: a body already read, or none (no `content-length`, no `transfer-encoding`:
 * HTTP/1.1 says there is no body), needs nothing; one of a declared length up to `maxBytes` is
 * drained; a body of unknown length (chunked), a longer one, or a stream already destroyed
 * closes the connection.
 *
 * @example
 * drainDecision({ ended: false, destroyed: false, contentLength: '2000000' }); // 'drain'
 */
export function drainDecision(
  body: {
    ended: boolean;
    destroyed: boolean;
    contentLength: string | undefined;
    transferEncoding?: string | undefined;
  },
  maxBytes = MAX_DRAIN_BYTES,
): DrainDecision {
  if (body.ended) return 'none';
  if (body.destroyed) return 'close';
  if (body.contentLength === undefined) {
    return body.transferEncoding === undefined ? 'none' : 'close';
  }
  return /^[0-9]+$/.test(body.contentLength) && Number(body.contentLength) <= maxBytes
    ? 'drain'
    : 'close';
}

/**
 * Reads an unread request body to its end and discards it; false when it did not end within
 * `timeoutMs` or sent more than `maxBytes` (the connection should then close). It reads through
 * the web `Request`'s stream when that is still unread: @hono/node-server's wrapper already pulls
 * from the socket into it and pauses the socket while nobody reads it.
 *
 * @example
 * if (!(await drainRequestBody(request, incoming))) response.headers.set('connection', 'close');
 */
export async function drainRequestBody(
  request: Request,
  incoming: IncomingMessage,
  maxBytes = MAX_DRAIN_BYTES,
  timeoutMs = DRAIN_TIMEOUT_MS,
): Promise<boolean> {
  if (incoming.readableEnded) return true;
  const body = request.body;
  if (body === null || body.locked || request.bodyUsed) return false;
  const reader = body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<false>((done) => {
    timer = setTimeout(() => done(false), timeoutMs);
  });
  const drained = (async () => {
    let read = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return true;
      read += value.byteLength;
      if (read > maxBytes) return false;
    }
  })().catch(() => false);
  try {
    return await Promise.race([drained, timedOut]);
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
}

/**
 * The response, after making sure the connection can carry the next request: an unread body is
 * drained when the policy allows, else the response is marked `connection: close`.
 *
 * @example
 * return keepConnectionUsable(request, incoming, await app.fetch(request, bindings));
 */
export async function keepConnectionUsable(
  request: Request,
  incoming: IncomingMessage,
  response: Response,
): Promise<Response> {
  const decision = drainDecision({
    ended: incoming.readableEnded || incoming.method === 'GET' || incoming.method === 'HEAD',
    destroyed: incoming.destroyed,
    contentLength: incoming.headers['content-length'],
    transferEncoding: incoming.headers['transfer-encoding'],
  });
  if (decision === 'none') return response;
  if (decision === 'drain' && (await drainRequestBody(request, incoming))) return response;
  const closing = new Response(response.body, response);
  closing.headers.set('connection', 'close');
  return closing;
}
