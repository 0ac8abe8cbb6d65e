/**
 * Issue 12, item 4: subscribers that stop reading must not grow the server's memory. The real
 * Node server runs as a child process on Postgres (Neon driver); three raw-socket subscribers
 * stop reading while ~110 MB of events are pushed (enough that linear growth stands out from the
 * push path's own garbage); the server's RSS is read from /proc. Then each resumes from the last
 * SSE id it got and must end up with every event exactly once, in order.
 *
 * The numbers are printed (`[slow-subscriber]` lines): with the bounded writer RSS rose
 * 103 -> 189 MB and stayed level; the server before it (commit c01f808) rose linearly,
 * 111 -> 372 MB. To repeat that, point STRATA_SLOW_SUBSCRIBER_SERVER_DIR at another checkout's
 * packages/edge-server: the memory assertion then fails. The pushes outlast the server's 30 s
 * close grace, so these never-reading streams are cut rather than ended after a `closing`
 * message (subscription-limits-app.test.ts shows that message).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  newKsuid,
  readServerSentEvents,
  SUBSCRIPTION_FEATURES_HEADER,
  type SubscriptionMessage,
} from '@strata/core';
import { createTestDatabase, type TestDatabase, testPostgres } from '@strata/tooling/postgres/neon';
import { bearerToken } from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRawSse, type RawSseConnection } from '../../test/fixtures/node/raw-sse-connection.ts';
import { type SpawnedServer, spawnServer } from '../../test/fixtures/node/spawn-server.ts';

const serverDir =
  process.env.STRATA_SLOW_SUBSCRIBER_SERVER_DIR ?? fileURLToPath(new URL('../..', import.meta.url));
const SECRET = 'slow-subscriber-secret';
const PUSHES = 120;
const EVENTS_PER_PUSH = 60;
const PAYLOAD = 'x'.repeat(16_000); // 60 events of ~16 KB: a push just under the 1 MiB body cap

/** The server's resident memory in bytes (VmRSS). */
function rssOf(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (line === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(line[1]) * 1024;
}

const MB = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const parse = (data: string) => JSON.parse(data) as SubscriptionMessage;

describe('subscribers that do not read (real Node server, Postgres)', () => {
  let db: TestDatabase;
  let server: SpawnedServer;
  let token: string;

  beforeAll(async () => {
    db = await createTestDatabase('strata_slow');
    server = await spawnServer(process.execPath, ['--import', 'tsx', 'src/node/main.ts'], {
      cwd: serverDir,
      env: {
        DATABASE_URL: db.url,
        NEON_WS_PROXY: `127.0.0.1:${testPostgres().wsProxyPort}`,
        JWT_SECRET: SECRET,
        PORT: '0',
        HOST: '127.0.0.1',
      },
    });
    token = await bearerToken(SECRET, 'acme', 'ada');
  }, 60_000);

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await db?.drop();
  });

  it('keeps memory bounded, closes the slow streams, and they resume without loss or duplicates', async () => {
    const pid = server.pid as number;
    const authorization = `Bearer ${token}`;
    // Two subscribers ask for the `closing` message, one is an older client that does not.
    const subscribers: RawSseConnection[] = [0, 1, 2].map((i) =>
      openRawSse(server.url, '/v1/subscribe', {
        authorization,
        ...(i < 2 ? { [SUBSCRIPTION_FEATURES_HEADER]: 'closing' } : {}),
      }),
    );
    for (const subscriber of subscribers) {
      expect(await subscriber.status).toBe(200);
      await subscriber.until((message) => parse(message.data).kind === 'caught-up');
      subscriber.pause(); // from now on the kernel's buffers fill, and then the server's
    }

    const before = rssOf(pid);
    let peak = before;
    const pushed: string[] = [];
    let pushedBytes = 0;
    for (let p = 0; p < PUSHES; p++) {
      const aggregateId = `note-${p}`;
      const events = Array.from({ length: EVENTS_PER_PUSH }, (_, i) => ({
        id: newKsuid(),
        type: 'Noted',
        schemaVersion: 1,
        aggregateType: 'Note',
        aggregateId,
        version: i + 1,
        occurredAt: '2026-12-01T10:00:00.000Z',
        data: { text: PAYLOAD, n: i },
        metadata: {},
      }));
      const body = JSON.stringify({
        clientId: 'pusher',
        commits: [{ commitId: `commit-${p}`, events }],
      });
      const response = await fetch(`${server.url}/v1/push`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body,
      });
      expect(response.status, await response.clone().text()).toBe(200);
      const answer = (await response.json()) as { results: { status: string }[] };
      expect(answer.results.map((result) => result.status)).toEqual(['accepted']);
      pushed.push(...events.map((event) => event.id));
      pushedBytes += body.length;
      peak = Math.max(peak, rssOf(pid));
    }
    // The feed delivers after the last push: give it the time a subscriber would take to overflow.
    for (let i = 0; i < 20; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      peak = Math.max(peak, rssOf(pid));
    }
    const growth = peak - before;
    console.info(
      `[slow-subscriber] pushed ${MB(pushedBytes)} MB (${pushed.length} events) to 3 subscribers that do not read: RSS ${MB(before)} -> peak ${MB(peak)} MB (+${MB(growth)} MB)`,
    );
    // Buffering every event for each of the three would take 3 x pushedBytes (and did: issue 12
    // measured 103 -> 271 MB for 120 MB). Without buffering the growth is the push path's own
    // garbage, which levels off (~85 MB here, with or without subscribers) however much is pushed.
    expect(growth).toBeLessThan(pushedBytes * 1.25);

    const resumed = await Promise.all(
      subscribers.map(async (subscriber, i) => {
        subscriber.resume();
        // The server ended the stream, not us: we never closed it.
        expect(['end', 'reset']).toContain(await subscriber.ended);
        const messages = subscriber.messages.map((message) => ({
          ...message,
          parsed: parse(message.data),
        }));
        const firstPart = messages.flatMap((m) => (m.parsed.kind === 'event' ? [m.parsed] : []));
        for (const m of messages) {
          if (m.parsed.kind === 'event') expect(m.id).toBe(m.parsed.cursor);
        }
        expect(firstPart.length).toBeLessThan(pushed.length); // it was cut, not fed everything
        const lastId = messages.findLast((m) => m.id !== undefined)?.id;
        const closing = messages.filter((m) => m.parsed.kind === 'closing');
        if (i === 2) expect(closing).toEqual([]); // not asked for: an old client never sees it
        for (const m of closing) {
          // Only ever last, and naming the cursor the client already holds.
          expect(m).toBe(messages.at(-1));
          expect(m.parsed).toEqual({
            kind: 'closing',
            reason: 'slow-reader',
            ...(lastId === undefined ? {} : { resumeAfter: lastId }),
          });
        }

        // Resume from the last id received, as an EventSource would, and read until caught up.
        const response = await fetch(`${server.url}/v1/subscribe`, {
          headers: { authorization, ...(lastId === undefined ? {} : { 'last-event-id': lastId }) },
        });
        expect(response.status).toBe(200);
        const rest: string[] = [];
        for await (const { data } of readServerSentEvents(
          response.body as ReadableStream<Uint8Array>,
        )) {
          const message = parse(data);
          if (message.kind === 'event') rest.push(message.event.id);
          if (message.kind === 'caught-up') break;
        }
        return {
          ids: [...firstPart.map((message) => message.event.id), ...rest],
          cut: firstPart.length,
          closing: closing.length,
        };
      }),
    );
    console.info(
      `[slow-subscriber] streams cut after ${resumed.map((r) => r.cut).join(', ')} events (closing messages: ${resumed.map((r) => r.closing).join(', ')}); resumed to ${pushed.length} each`,
    );
    for (const { ids } of resumed) expect(ids).toEqual(pushed);
  }, 180_000);
});
