import { afterAll, describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { type NodeServer, startNodeServer } from './server.ts';

// The server's PGlite, loaded from the run's dump (initdb would take seconds).
const pglite = useMigratedPglite();
let server: NodeServer | undefined;
afterAll(() => server?.close());

describe('the Node entry (issue 12, item 5)', () => {
  it('limits by the socket peer address, not by X-Forwarded-For', async () => {
    server = await startNodeServer({
      port: 0,
      hostname: '127.0.0.1',
      pglite: pglite(),
      env: {},
      handleSignals: false,
      // Loopback counts here: the test's requests all come from 127.0.0.1.
      rateLimits: { perAddress: { requests: 2, windowMs: 60_000 }, limitLoopback: true },
      log: () => undefined,
      warn: () => undefined,
    });
    const url = `${server.url}/v1/pull`;
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      // A forged forwarding header changes nothing: the peer is still 127.0.0.1.
      const response = await fetch(url, { headers: { 'x-forwarded-for': `198.51.100.${i}` } });
      statuses.push(response.status);
      if (response.status === 429) {
        expect(response.headers.get('retry-after')).toBe('30');
        expect(await response.json()).toMatchObject({ code: 'RATE_LIMITED' });
      } else await response.body?.cancel();
    }
    expect(statuses).toEqual([200, 200, 429]);
  }, 60_000);
});
