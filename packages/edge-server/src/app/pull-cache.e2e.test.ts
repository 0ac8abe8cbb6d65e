import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newKsuid } from '@strata/core';
import { type NodeServer, startNodeServer } from '@strata/edge-server/node';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@strata/tooling/chromium';
import { createTestDatabase, type TestDatabase, testPostgres } from '@strata/tooling/postgres/neon';
import { commit, fetchAt, syncClient, todoEvent } from '@strata/tooling/sync/sync-client';
import { type Browser, chromium, type Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The pull cache headers (pull-cache.ts) in a real browser cache: Chromium keeps a full page,
// asks again with If-None-Match and the server answers 304 (the page still gets the whole
// body); after the database behind the same URL is replaced, the same request gets the new
// log's page, never the cached one (why the headers say no-cache, not immutable). The page is
// served by the sync server itself (same origin, as a deployed app behind one host).
let browser: Browser;
let site: string;
const databases: TestDatabase[] = [];
const servers: NodeServer[] = [];

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
  });
  site = await mkdtemp(join(tmpdir(), 'strata-pull-cache-'));
  await writeFile(join(site, 'index.html'), '<!doctype html><title>pull cache</title>');
});

afterAll(async () => {
  await browser?.close();
  await Promise.allSettled(servers.map((server) => server.close()));
  await Promise.allSettled(databases.map((database) => database.drop()));
  await rm(site, { recursive: true, force: true });
});

/** A server on a fresh database holding `events` todos; its pull answers' statuses are logged. */
async function serverWith(events: number, port = 0) {
  const database = await createTestDatabase('strata_pull_cache_e2e');
  databases.push(database);
  const pulls: number[] = [];
  const server = await startNodeServer({
    port,
    hostname: '127.0.0.1',
    databaseUrl: database.url,
    env: { NEON_WS_PROXY: `127.0.0.1:${testPostgres().wsProxyPort}` },
    staticDir: site,
    handleSignals: false,
    shutdownGraceMs: 0,
    log: (line) => {
      if (!line.startsWith('{')) return;
      const entry = JSON.parse(line) as { route?: string; status?: number };
      if (entry.route === '/v1/pull' && entry.status !== undefined) pulls.push(entry.status);
    },
    warn: () => undefined,
  });
  servers.push(server);
  const client = syncClient(fetchAt(server.url));
  await client.push(
    ...Array.from({ length: events }, () => commit(newKsuid(), todoEvent(newKsuid(), 1))),
  );
  const ids = (await client.pullAll()).map((event) => event.id);
  pulls.length = 0; // only the page's pulls from here
  return { server, pulls, ids };
}

/** The event ids of `GET /v1/pull?limit=10` as the page's fetch sees them (default cache mode). */
const pullInPage = (page: Page) =>
  page.evaluate(async () => {
    const response = await fetch('/v1/pull?limit=10');
    const body = (await response.json()) as { events: { id: string }[] };
    return { status: response.status, ids: body.events.map((event) => event.id) };
  });

describe('pull pages in Chromium’s HTTP cache', () => {
  it('a full page is revalidated (304 on the wire, the whole page in the page), and a replaced database is never served from the cache', async () => {
    const first = await serverWith(25);
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${first.server.url}/`);

    const fresh = await pullInPage(page);
    const again = await pullInPage(page);
    expect(fresh).toEqual({ status: 200, ids: first.ids.slice(0, 10) });
    expect(again).toEqual(fresh);
    expect(first.pulls).toEqual([200, 304]); // the browser asked, with If-None-Match

    // The same URL, another log: the server at the same port on a new database.
    const { port } = first.server;
    await first.server.close();
    const second = await serverWith(25, port);
    const afterReset = await pullInPage(page);
    expect(afterReset).toEqual({ status: 200, ids: second.ids.slice(0, 10) });
    expect(afterReset.ids.some((id) => first.ids.includes(id))).toBe(false);
    expect(second.pulls).toEqual([200]); // asked again, and given the new page in full
  });
});
