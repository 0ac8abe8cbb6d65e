/**
 * The WebSocket-to-TCP proxy the Neon driver connects through (as tooling/postgres/ws-proxy.ts),
 * counting the SQL statements that pass it: every Simple Query ('Q') and every Execute ('E') of
 * the extended protocol the client sends. The bench server's database traffic all goes through
 * it, so a benchmark can say how many statements one append costs (fan-out.bench.ts shows the
 * count does not grow with the subscribers). Bytes are forwarded as they come; the count reads
 * the frontend message stream beside them.
 */
import { startWsProxy } from '../postgres/ws-proxy.ts';

export interface CountingWsProxy {
  readonly port: number;
  /** Statements sent through the proxy since it started. */
  statements(): number;
  close(): Promise<void>;
}

/** The startup packet's codes for SSLRequest and GSSENCRequest: another startup packet follows. */
const NEGOTIATION_CODES = new Set([80877103, 80877104]);
const SIMPLE_QUERY = 0x51; // 'Q'
const EXECUTE = 0x45; // 'E'

/**
 * Counts statements in a client's (frontend's) byte stream, however it is split into chunks:
 * untyped startup packets first, then typed messages (type byte, int32 length with itself).
 */
export function frontendStatementCounter(onStatement: () => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  let started = false;
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let offset = 0;
    for (;;) {
      if (!started) {
        if (pending.length - offset < 8) break;
        const length = pending.readInt32BE(offset);
        if (pending.length - offset < length) break;
        started = !NEGOTIATION_CODES.has(pending.readInt32BE(offset + 4));
        offset += length;
        continue;
      }
      if (pending.length - offset < 5) break;
      const type = pending[offset];
      const length = pending.readInt32BE(offset + 1);
      if (pending.length - offset < 1 + length) break;
      if (type === SIMPLE_QUERY || type === EXECUTE) onStatement();
      offset += 1 + length;
    }
    pending = offset === pending.length ? Buffer.alloc(0) : pending.subarray(offset);
  };
}

/** Starts the proxy in front of one Postgres address (the only one it forwards to). */
export async function startCountingWsProxy(target: {
  host: string;
  port: number;
}): Promise<CountingWsProxy> {
  let statements = 0;
  const proxy = await startWsProxy(target, {
    observeClient: () => frontendStatementCounter(() => statements++),
  });
  return { port: proxy.port, statements: () => statements, close: () => proxy.close() };
}
