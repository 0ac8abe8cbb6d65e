// A sync app listening on a free loopback port, so a bench's requests cross real HTTP (a socket,
// Node's HTTP parser, @hono/node-server's request conversion) as a device's do.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { SyncApp } from '../../src/app/create-sync-app.ts';

export interface BenchServer {
  /** e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `app` on 127.0.0.1 at a port the system picks. */
export function listen(app: SyncApp): Promise<BenchServer> {
  return new Promise((resolve) => {
    const server = serve(
      { fetch: app.fetch, hostname: '127.0.0.1', port: 0 },
      (info: AddressInfo) => {
        resolve({
          url: `http://127.0.0.1:${info.port}`,
          close: () =>
            new Promise<void>((done, fail) => {
              (server as Server).closeAllConnections();
              server.close((error) => (error === undefined ? done() : fail(error)));
            }),
        });
      },
    );
  });
}
