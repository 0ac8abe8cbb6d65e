import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { drainDecision } from './drain-request-body.ts';
import { type NodeServer, startNodeServer } from './server.ts';

describe('drainDecision', () => {
  it.each([
    [{ ended: true, destroyed: false, contentLength: '5' }, 'none'],
    [{ ended: false, destroyed: false, contentLength: '5000000' }, 'drain'],
    [{ ended: false, destroyed: false, contentLength: '8388609' }, 'close'],
    [{ ended: false, destroyed: false, contentLength: undefined }, 'none'],
    [
      { ended: false, destroyed: false, contentLength: undefined, transferEncoding: 'chunked' },
      'close',
    ],
    [{ ended: false, destroyed: false, contentLength: '1e3' }, 'close'],
    [{ ended: false, destroyed: true, contentLength: '10' }, 'close'],
  ] as const)('%j: %s', (body, decision) => {
    expect(drainDecision(body)).toBe(decision);
  });
});

// Issue 12, item 10: after a 413 the same keep-alive connection carries the next request.
describe('a 413 on the Node server', () => {
  // The server's PGlite, loaded from the run's dump (initdb would take seconds).
  const pglite = useMigratedPglite();
  let server: NodeServer;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  beforeAll(async () => {
    server = await startNodeServer({
      handleSignals: false,
      log: () => undefined,
      warn: () => undefined,
      port: 0,
      hostname: '127.0.0.1',
      pglite: pglite(),
      limits: { maxBodyBytes: 1000 },
    });
  }, 30_000);
  afterAll(async () => {
    agent.destroy();
    await server?.close();
  });

  const post = (body: string, chunked = false) =>
    new Promise<{ status: number; connection: string | undefined; socket: Socket }>(
      (done, fail) => {
        const req = request(
          new URL('/v1/push', server.url),
          {
            method: 'POST',
            agent,
            headers: {
              'content-type': 'application/json',
              ...(chunked ? {} : { 'content-length': Buffer.byteLength(body) }),
            },
          },
          (res) => {
            res.resume();
            res.on('end', () =>
              done({
                status: res.statusCode ?? 0,
                connection: res.headers.connection,
                socket: req.socket as Socket,
              }),
            );
          },
        );
        req.on('error', fail);
        if (chunked) req.write(body.slice(0, 10));
        req.end(chunked ? body.slice(10) : body);
      },
    );

  it('drains a declared body within the bound and keeps the connection; a chunked one is closed honestly', async () => {
    const first = await post('{}');
    for (const size of [50_000, 1_000_000]) {
      const refused = await post('x'.repeat(size));
      expect([refused.status, refused.connection]).toEqual([413, 'keep-alive']);
      expect(refused.socket).toBe(first.socket);
    }
    const next = await post('{}');
    expect(next.status).toBe(400);
    expect(next.socket).toBe(first.socket);

    const chunked = await post('x'.repeat(300_000), true);
    expect([chunked.status, chunked.connection]).toEqual([413, 'close']);
    const after = await post('{}');
    expect(after.status).toBe(400);
  });
});
