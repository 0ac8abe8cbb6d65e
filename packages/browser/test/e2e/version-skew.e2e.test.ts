import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@strata/tooling/chromium';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startE2eSyncServer } from './e2e-sync-server.ts';
import { serveTestApp, type TestAppServer } from './serve-test-app.ts';
import type { VersionSkewApi } from './version-skew-app.ts';

// Version skew in real Chromium (issue 17), against the real edge server on a real Postgres: a
// device on the OLD build (version-skew-old-app.ts) receives what a device on the NEW build
// (version-skew-new-app.ts) wrote: a new event type (TodoStarred) and a new schema version of
// one it knows (TodoAdded v3). It keeps syncing the rest and says so in its status; once its
// origin serves the new build and the page reloads, it applies the kept events from its own
// log, each once. The server stores what clients push (it has no Todo definitions: a newer
// server's decisions would only make more events the old build cannot read).

const OLD_APP = new URL('./version-skew-old-app.ts', import.meta.url);
const NEW_APP = new URL('./version-skew-new-app.ts', import.meta.url);

let browser: Browser;
/** The old device's origin: it serves the old build until the test deploys the new one. */
let oldOrigin: TestAppServer;
/** Another origin, serving the new build all along. */
let newOrigin: TestAppServer;
const contexts: BrowserContext[] = [];
const cleanups: (() => Promise<void>)[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  [browser, oldOrigin, newOrigin] = await Promise.all([
    chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] }),
    serveTestApp({ entry: OLD_APP }),
    serveTestApp({ entry: NEW_APP }),
  ]);
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await oldOrigin?.close();
  await newOrigin?.close();
});

async function startServer() {
  // No aggregates: every commit's events are stored as pushed (authority `events`).
  return startE2eSyncServer({
    name: 'strata_skew',
    origins: [oldOrigin.origin, newOrigin.origin],
    cleanups,
  });
}

/** Opens the page of `origin` (whichever build it serves) on database `db`. */
async function open(page: Page, origin: TestAppServer, db: string, server: string) {
  await page.goto(origin.url({ db, server }));
  await page.waitForFunction(
    () => window.strataSkew !== undefined || window.strataSkewError !== undefined,
    undefined,
    { timeout: 10_000 },
  );
  const error = await page.evaluate(() => window.strataSkewError);
  if (error !== undefined) throw new Error(`version-skew app failed to start: ${error}`);
}

async function newPage(): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return page;
}

type Method = {
  [K in keyof VersionSkewApi]: VersionSkewApi[K] extends (...args: never[]) => unknown ? K : never;
}[keyof VersionSkewApi];

function call<M extends Method>(
  page: Page,
  method: M,
  ...args: Parameters<VersionSkewApi[M]>
): Promise<Awaited<ReturnType<VersionSkewApi[M]>>> {
  return page.evaluate(
    ([name, values]) => {
      const api = window.strataSkew;
      if (api === undefined) throw new Error('window.strataSkew is not ready');
      return Reflect.apply(api[name], api, values) as unknown;
    },
    [method, args as unknown[]] as const,
  ) as Promise<Awaited<ReturnType<VersionSkewApi[M]>>>;
}

async function mustExecute(page: Page, id: string, command: string, input: object = {}) {
  expect(await call(page, 'execute', id, command, input), `${command} ${id}`).toMatchObject({
    ok: true,
  });
}

const poll = { timeout: 15_000, interval: 50 } as const;

/** The server's events as `id@aggregateId/version`, sorted. */
const serverKeys = async (server: { events: () => Promise<{ id: string }[]> }) =>
  ((await server.events()) as { id: string; aggregateId: string; version: number }[])
    .map((event) => `${event.id}@${event.aggregateId}/${event.version}`)
    .sort();
/** The page's confirmed local events, sorted like `serverKeys`. */
const localKeys = async (page: Page) =>
  (await call(page, 'events'))
    .filter((event) => !event.pending)
    .map((event) => event.key)
    .sort();

describe('version skew in Chromium: an old build receives what a new one wrote', () => {
  it('keeps them, syncs the rest, reports the skew, and applies them once after its update', async () => {
    const server = await startServer();
    const oldPage = await newPage();
    const newPage_ = await newPage();
    const db = `e2e-skew-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    await open(oldPage, oldOrigin, db, server.url);
    await open(newPage_, newOrigin, `${db}-new`, server.url);
    expect(await oldPage.evaluate(() => window.strataSkew?.build)).toBe('old');
    // Two builds indeed: the old bundle has no trace of the new definitions.
    expect(oldOrigin.script).not.toContain('TodoStarred');
    expect(newOrigin.script).toContain('TodoStarred');

    // Both builds write readable events first.
    await mustExecute(oldPage, 'milk', 'add', { title: 'Milk' });
    await mustExecute(oldPage, 'bread', 'add', { title: 'Bread' });
    await expect.poll(() => call(newPage_, 'todos'), poll).toHaveLength(2);

    // The new build: a new event type on bread, then a readable rename after it; a todo added
    // at schema version 3; and a readable rename of milk.
    await mustExecute(newPage_, 'bread', 'star', { stars: 4 });
    await mustExecute(newPage_, 'bread', 'rename', { title: 'Rye bread' });
    await mustExecute(newPage_, 'tea', 'add', { title: 'Tea', priority: 'high' });
    await mustExecute(newPage_, 'milk', 'rename', { title: 'Oat milk' });
    await expect.poll(() => call(newPage_, 'pendingCount'), poll).toBe(0);

    // The old build keeps syncing: milk's rename arrives; bread is held where it could read it.
    await expect
      .poll(async () => (await call(oldPage, 'todos')).find((t) => t.id === 'milk')?.title, poll)
      .toBe('Oat milk');
    await expect.poll(() => localKeys(oldPage), poll).toEqual(await serverKeys(server));
    expect(await call(oldPage, 'todos')).toEqual([
      { id: 'bread', title: 'Bread', status: 'active' },
      { id: 'milk', title: 'Oat milk', status: 'active' },
    ]);
    expect(Object.keys(await call(oldPage, 'states')).sort()).toEqual(['bread', 'milk']);
    await expect
      .poll(async () => (await call(oldPage, 'status'))?.unreadable, poll)
      .toEqual({
        count: 2,
        heldAggregates: 2,
        types: [
          { type: 'TodoStarred', schemaVersion: 1, code: 'UNKNOWN_EVENT_TYPE', count: 1 },
          { type: 'TodoAdded', schemaVersion: 3, code: 'UNKNOWN_EVENT_TYPE', count: 1 },
        ],
      });
    expect((await call(oldPage, 'unreadable')).map((e) => `${e.aggregateId}/${e.version}`)).toEqual(
      ['bread/2', 'tea/1'],
    );
    // A held todo refuses commands (typed); the others take them, and they sync.
    expect(await call(oldPage, 'execute', 'bread', 'complete', {})).toMatchObject({
      ok: false,
      code: 'UNKNOWN_EVENT_TYPE',
    });
    await mustExecute(oldPage, 'milk', 'complete');
    await mustExecute(oldPage, 'jam', 'add', { title: 'Jam' });
    await expect.poll(() => call(oldPage, 'pendingCount'), poll).toBe(0);
    await expect
      .poll(async () => (await call(newPage_, 'todos')).map((t) => `${t.id}:${t.status}`), poll)
      .toEqual(['bread:active', 'jam:active', 'milk:completed', 'tea:active']);
    const before = await serverKeys(server);
    await expect.poll(() => localKeys(oldPage), poll).toEqual(before);

    // The app updates: its origin serves the new build, and the page loads it.
    await oldOrigin.deploy(NEW_APP);
    const reads: string[] = [];
    oldPage.on('request', (request) => {
      const url = new URL(request.url());
      if (url.origin === new URL(server.url).origin && /pull|subscribe/.test(url.pathname)) {
        // A pull names its cursor in the query, a subscription in Last-Event-ID.
        const after = url.searchParams.get('after') ?? request.headers()['last-event-id'] ?? '';
        reads.push(`${url.pathname}?after=${after}`);
      }
    });
    await open(oldPage, oldOrigin, db, server.url);
    expect(await oldPage.evaluate(() => window.strataSkew?.build)).toBe('new');
    // Applied on start, from the local log: the status no longer reports skew.
    await expect.poll(async () => (await call(oldPage, 'status'))?.catchUp.done, poll).toBe(true);
    expect((await call(oldPage, 'status'))?.unreadable).toBeUndefined();
    expect(await call(oldPage, 'unreadable')).toEqual([]);
    // Nothing downloaded again: every read after the reload went on from the stored cursor.
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.filter((read) => read.endsWith('after='))).toEqual([]);
    const rows = await call(oldPage, 'todos');
    expect(rows.find((t) => t.id === 'bread')).toMatchObject({
      title: 'Rye bread',
      stars: 4,
      // TodoStarred and the rename after it, each applied once by the new projection.
      applied: 2,
    });
    expect(rows.find((t) => t.id === 'tea')).toMatchObject({
      title: 'Tea',
      priority: 'high',
      applied: 1,
    });
    expect(rows.find((t) => t.id === 'milk')).toMatchObject({ status: 'completed' });
    // The same states as the device that was on the new build all along, nothing lost.
    expect(await call(oldPage, 'states')).toEqual(await call(newPage_, 'states'));
    expect(await localKeys(oldPage)).toEqual(await serverKeys(server));
    expect(await serverKeys(server)).toEqual(before);
    // A held todo takes commands again, and they sync.
    await mustExecute(oldPage, 'bread', 'complete');
    await expect.poll(() => call(oldPage, 'pendingCount'), poll).toBe(0);
    expect(await call(oldPage, 'rejectedCount')).toBe(0);

    // Reloading again applies nothing twice.
    await open(oldPage, oldOrigin, db, server.url);
    const again = await call(oldPage, 'todos');
    expect(again.find((t) => t.id === 'bread')).toMatchObject({ stars: 4, applied: 3 });
    expect(again.find((t) => t.id === 'tea')).toMatchObject({ applied: 1 });
  });
});
