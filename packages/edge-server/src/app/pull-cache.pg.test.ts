import { readFileSync } from 'node:fs';
import { LOG_ID_HEADER, newKsuid, type PullResponse } from '@strata/core';
import { createTestDatabase, type Pool, type TestDatabase } from '@strata/tooling/postgres/neon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../migrations/migrations.ts';
import { neonDatabase } from '../postgres/neon-database.ts';
import { singleTenant } from './auth.ts';
import { createSyncApp, type SyncApp } from './create-sync-app.ts';
import { PULL_PAGE_CACHE_CONTROL, PULL_PAGE_VARY } from './pull-cache.ts';

// GET /v1/pull on real Postgres: a full page below the no-skip horizon carries a strong ETag
// and revalidation headers, and If-None-Match with it is a 304 with no body; the last page, a
// counted page and a page that reaches the end carry none. docs/production.md says the same.
const EVENTS = 25;
const databases: TestDatabase[] = [];
const pools: Pool[] = [];
const apps: SyncApp[] = [];

async function serverWith(events: number): Promise<SyncApp> {
  const database = await createTestDatabase('strata_pull_cache');
  databases.push(database);
  const pool = database.createPool({ max: 4 });
  pools.push(pool);
  await migrate(neonDatabase(pool));
  const app = createSyncApp({
    database: neonDatabase(pool),
    authenticate: singleTenant('cached'),
    rateLimits: false,
  });
  apps.push(app);
  const response = await app.request('/v1/push', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      clientId: 'writer',
      commits: Array.from({ length: events }, (_, n) => ({
        commitId: newKsuid(),
        events: [
          {
            id: newKsuid(),
            type: 'Noted',
            schemaVersion: 1,
            aggregateType: 'Note',
            aggregateId: `note-${n}`,
            version: 1,
            occurredAt: '2026-12-03T10:00:00.000Z',
            data: { n },
            metadata: {},
          },
        ],
      })),
    }),
  });
  expect(response.status).toBe(200);
  return app;
}

let app: SyncApp;
beforeAll(async () => {
  app = await serverWith(EVENTS);
});

afterAll(async () => {
  await Promise.all(apps.map((each) => each.close()));
  await Promise.all(pools.map((pool) => pool.end()));
  await Promise.all(databases.map((database) => database.drop()));
});

const pull = (query: string, headers: Record<string, string> = {}, on = app) =>
  on.request(`/v1/pull?${query}`, { headers });

describe('GET /v1/pull cache headers', () => {
  it('a full page below the horizon: strong ETag, private no-cache, Vary; If-None-Match is a 304 with no body', async () => {
    const first = await pull('limit=10');
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/); // strong: no W/
    expect(first.headers.get('cache-control')).toBe(PULL_PAGE_CACHE_CONTROL);
    expect(first.headers.get('vary')).toBe(PULL_PAGE_VARY);
    expect(first.headers.get('content-type')).toMatch(/^application\/json/);
    const page = (await first.json()) as PullResponse;
    expect(page.events.map((event) => event.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(page.hasMore).toBe(true);

    const again = await pull('limit=10', { 'if-none-match': etag as string });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('etag')).toBe(etag);
    expect(again.headers.get('cache-control')).toBe(PULL_PAGE_CACHE_CONTROL);
    expect(again.headers.get(LOG_ID_HEADER)).toBe(first.headers.get(LOG_ID_HEADER));

    // In a list, or weak, as a browser may send it.
    expect((await pull('limit=10', { 'if-none-match': `"other", W/${etag}` })).status).toBe(304);
    // The next full page is another body, another ETag.
    const second = await pull(`limit=10&after=${page.cursor}`);
    expect(second.status).toBe(200);
    expect(second.headers.get('etag')).not.toBe(etag);
    expect(
      (await pull(`limit=10&after=${page.cursor}`, { 'if-none-match': etag as string })).status,
    ).toBe(200);
  });

  it('the last page, a page that reaches the end and a counted page carry no cache headers', async () => {
    const firstTwenty = (await (await pull('limit=20')).json()) as PullResponse;
    for (const query of [
      `limit=10&after=${firstTwenty.cursor}`, // 5 events, the end: later events join it
      `limit=${EVENTS}`, // exactly the whole log: hasMore false
      'limit=100',
      'limit=10&count=true', // `remaining` grows with the log
    ]) {
      const response = await pull(query);
      expect(response.status, query).toBe(200);
      expect(response.headers.get('etag'), query).toBeNull();
      expect(response.headers.get('cache-control'), query).toBeNull();
      // And If-None-Match with anything is no 304.
      const asked = await pull(query, { 'if-none-match': '*' });
      expect(asked.status, query).toBe(200);
      expect(((await asked.json()) as PullResponse).events.length, query).toBeGreaterThan(0);
    }
  });

  it('the ETag is of the content, not the URL: another database at the same cursor answers 200', async () => {
    const etag = (await pull('limit=10')).headers.get('etag') as string;
    const replaced = await serverWith(EVENTS); // same positions, other events, another log id
    const response = await pull('limit=10', { 'if-none-match': etag }, replaced);
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).not.toBe(etag);
    expect(((await response.json()) as PullResponse).events).toHaveLength(10);
  });

  it('docs/production.md names the headers the server sends', () => {
    const guide = readFileSync(new URL('../../../../docs/production.md', import.meta.url), 'utf8');
    expect(guide).toContain(`Cache-Control: ${PULL_PAGE_CACHE_CONTROL}`);
    expect(guide).toContain(`Vary: ${PULL_PAGE_VARY}`);
    expect(guide).toContain('304 Not Modified');
  });
});
