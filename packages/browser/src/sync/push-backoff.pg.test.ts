// The push loop's backoff against a real edge server whose pushes fail (issue 17, "backoff that
// holds"): new commands made meanwhile wait for the backoff instead of each ending it, nothing
// is lost, and the pending commands go once the server answers again; a server that answered
// 500 to everything is noticed within about a second of healing (the reachability probe).
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

const internalError = () =>
  new Response(
    JSON.stringify({ type: 'about:blank', title: 'Internal', status: 500, code: 'INTERNAL' }),
    { status: 500, headers: { 'content-type': 'application/problem+json' } },
  );

/** Pushes, pulls and probes, by time sent, through a fetch that answers 500 while `failing`. */
function failingServer() {
  const state = { failing: true };
  const sent = { push: [] as number[], pull: [] as number[], probe: [] as number[] };
  const fetchImpl: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const kind = url.pathname.endsWith('/push')
      ? 'push'
      : url.pathname.endsWith('/readyz')
        ? 'probe'
        : url.pathname.endsWith('/pull')
          ? 'pull'
          : undefined;
    if (kind !== undefined) sent[kind].push(Date.now());
    return state.failing ? internalError() : fetch(input, init);
  };
  return { state, sent, fetch: fetchImpl };
}

describe('push backoff against a failing server', () => {
  it('a command every 100 ms while pushes answer 500: the attempts follow the backoff, then all of it syncs', async () => {
    let failing = true;
    const attempts: number[] = [];
    const failingPushes: typeof fetch = async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : input);
      if (url.pathname.endsWith('/push')) {
        attempts.push(Date.now());
        if (failing) {
          return internalError();
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

  it('a server answering 500 to everything for 15 s, a command every 300 ms: the pushes follow the backoff, and sync resumes within about a second of healing', async () => {
    await client?.close();
    const server500 = failingServer();
    client = await startTestClient(server.url, 'outage', {
      fetch: server500.fetch,
      // The default backoff without jitter, so the attempts can be counted: 250 ms doubling.
      backoff: { initialDelayMs: 250, maxDelayMs: 30_000, jitter: 'none' },
    });
    const pending = () => (client as TestClient).strata.db.table('commands').count();
    const titles: string[] = [];
    // Commands every 300 ms until the push loop has made its 7th attempt, at 0.25 + 0.5 + 1 + 2
    // + 4 + 8 = 15.75 s after the first: its next would be 16 s later.
    for (let i = 0; server500.sent.push.length < 7; i++) {
      titles.push(`todo ${i}`);
      expect(await client.command(`o${i}`, 'add', { title: `todo ${i}` })).toBe(true);
      await sleep(300);
      expect(i).toBeLessThan(100);
    }
    const [first = 0, ...rest] = server500.sent.push;
    const gaps = rest.map((at, i) => at - (server500.sent.push[i] as number));
    // Each wait at least the backoff's (new commands do not cut it short), and no more than a
    // timer's slack above it.
    for (const [i, gap] of gaps.entries()) {
      expect(gap).toBeGreaterThanOrEqual(250 * 2 ** i - 20);
      expect(gap).toBeLessThan(250 * 2 ** i + 1000);
    }
    expect(titles.length).toBeGreaterThan(45);
    // The probe asked about once a second, not once per command: about 16 over those 16 s.
    const outageMs = Date.now() - first;
    const probes = server500.sent.probe.length;
    expect(probes).toBeGreaterThanOrEqual(Math.floor(outageMs / 1250) - 1);
    expect(probes).toBeLessThanOrEqual(Math.ceil(outageMs / 750) + 1);
    // Nothing lost meanwhile.
    expect(await pending()).toBe(titles.length);

    server500.state.failing = false;
    const healedAt = Date.now();
    await eventually(async () => expect(await pending()).toBe(0), 20_000);
    const resumedAfterMs = Date.now() - healedAt;
    // Without the probe the next push was 16 s away. One probe interval (1 s, jittered by up to
    // 25%) plus a catch-up and a push; loose, since this is a timed run on a shared machine.
    expect(resumedAfterMs).toBeLessThan(4_000);
    const stored = await server.events();
    const outageTitles = stored
      .filter((event) => event.aggregateId.startsWith('o'))
      .map((event) => (event.data as { title: string }).title);
    expect(outageTitles.sort()).toEqual([...titles].sort());
    console.info(
      `outage: ${titles.length} commands, ${server500.sent.push.length} push attempts, ${probes} probes in ${outageMs} ms; synced ${resumedAfterMs} ms after healing`,
    );
  }, 60_000);
});
