// The push loop's backoff against a real edge server whose pushes fail (issue 17, "backoff that
// holds"): new commands made meanwhile wait for the backoff instead of each ending it, nothing
// is lost, and the pending commands go once the server answers again.
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  startTestClient,
  startTestServer,
  type TestClient,
  type TestServer,
} from '../../test/fixtures/sync-harness.ts';

let server: TestServer;
let client: TestClient | undefined;

beforeAll(async () => {
  server = await startTestServer();
}, 60_000);

afterAll(async () => {
  await client?.close();
  await server?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('push backoff against a failing server', () => {
  it('a command every 100 ms while pushes answer 500: the attempts follow the backoff, then all of it syncs', async () => {
    let failing = true;
    const attempts: number[] = [];
    const failingPushes: typeof fetch = async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : input);
      if (url.pathname.endsWith('/push')) {
        attempts.push(Date.now());
        if (failing) {
          return new Response(
            JSON.stringify({
              type: 'about:blank',
              title: 'Internal',
              status: 500,
              code: 'INTERNAL',
            }),
            { status: 500, headers: { 'content-type': 'application/problem+json' } },
          );
        }
      }
      return fetch(input, init);
    };
    client = await startTestClient(server.url, 'backoff', {
      fetch: failingPushes,
      backoff: { initialDelayMs: 100, maxDelayMs: 800, jitter: 'none' },
    });
    const titles = Array.from({ length: 20 }, (_, i) => `todo ${i}`);
    for (const [i, title] of titles.entries()) {
      expect(await client.command(`t${i}`, 'add', { title })).toBe(true);
      await sleep(100);
    }
    // 2 s of failures with waits of 100, 200, 400, 800, 800 ms: about six attempts. When each
    // new command ended the wait, it was one attempt per command (20 and more).
    const whileFailing = attempts.length;
    expect(whileFailing).toBeGreaterThanOrEqual(3);
    expect(whileFailing).toBeLessThanOrEqual(8);
    // Nothing lost meanwhile: every command still pending on the device.
    const pending = () => (client as TestClient).strata.db.table('commands').count();
    expect(await pending()).toBe(titles.length);

    failing = false;
    await eventually(async () => {
      const stored = await server.events();
      const storedTitles = stored.map((event) => (event.data as { title: string }).title);
      expect(storedTitles.sort()).toEqual([...titles].sort());
    });
    await eventually(async () => expect(await pending()).toBe(0));
    // Stored once each.
    expect((await server.events()).length).toBe(titles.length);
  }, 60_000);
});
