import { connect } from 'node:net';
import { WebSocketServer } from 'ws';

export interface WsProxy {
  readonly port: number;
  close(): Promise<void>;
}

/** Options of `startWsProxy`. */
export interface WsProxyOptions {
  /**
   * Called once per connection; what it returns sees every chunk the client sends, after it
   * was forwarded (the bench's statement counter reads the stream this way).
   */
  readonly observeClient?: () => (chunk: Buffer) => void;
}

/**
 * A WebSocket-to-TCP proxy in the shape the Neon driver expects:
 * `ws://127.0.0.1:<port>/v1?address=<host>:<port>`. It forwards only to the
 * one Postgres address it was made for.
 */
export function startWsProxy(
  target: { host: string; port: number },
  options: WsProxyOptions = {},
): Promise<WsProxy> {
  const allowed = `${target.host}:${target.port}`;
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/v1' });

  wss.on('connection', (ws, request) => {
    const address = new URL(request.url ?? '', 'http://proxy').searchParams.get('address');
    if (address !== allowed) {
      ws.close(1008, `this proxy only forwards to ${allowed}`);
      return;
    }
    const observe = options.observeClient?.();
    const socket = connect({ host: target.host, port: target.port });
    socket.setNoDelay(true);
    socket.on('data', (chunk) => ws.send(chunk));
    socket.on('close', () => ws.close());
    socket.on('error', () => ws.terminate());
    ws.on('message', (data) => {
      const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      socket.write(chunk);
      observe?.(chunk);
    });
    ws.on('close', () => socket.end());
    ws.on('error', () => socket.destroy());
  });

  return new Promise((resolve, reject) => {
    wss.once('error', reject);
    wss.once('listening', () => {
      const address = wss.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : 0,
        close: () =>
          new Promise<void>((done) => {
            for (const client of wss.clients) client.terminate();
            wss.close(() => done());
          }),
      });
    });
  });
}
