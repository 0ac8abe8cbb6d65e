import type { NodeServer } from '@strata/edge-server/node';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@strata/tooling/chromium';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  buildDemo,
  type ServerEvent,
  serverEvents,
  startTestServer,
  tempFolder,
} from '../e2e/harness.ts';

// The demo as an installed app (issue 17, "the app opens offline"): its service worker
// (vite-plugin-pwa / Workbox) precaches the built files, so with the server really stopped a new
// page load still opens the app, with its data from IndexedDB; a new deployment waits behind the
// update prompt and the pending commands outlive the reload. Real Chromium, the real demo server
// on PGlite. Each test has its own browser context (its own service worker and caches) and its
// own server port (its own origin), so nothing cached crosses tests.

const V1 = 'pwa-v1';
const V2 = 'pwa-v2';

let browser: Browser;
/** The app built twice, as two deployments: the footer shows which one runs. */
const builds: Record<string, string> = {};
const folders: { remove(): Promise<void> }[] = [];
const contexts: BrowserContext[] = [];
const cleanups: (() => Promise<void>)[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  for (const version of [V1, V2]) {
    const folder = await tempFolder(version);
    folders.push(folder);
    builds[version] = folder.path;
  }
  // Two builds one after the other (two cores), beside the browser's start.
  [browser] = await Promise.all([
    chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] }),
    (async () => {
      await buildDemo(builds[V1] as string, { version: V1 });
      await buildDemo(builds[V2] as string, { version: V2 });
    })(),
  ]);
}, 180_000);

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  for (const folder of folders) await folder.remove();
});

/** A demo server on one port and data folder, stopped and started again (maybe on another build). */
interface DemoServer {
  readonly url: string;
  /** Really stopped: the listener is closed, so connections are refused. */
  stop(): Promise<void>;
  start(version: string, options?: { readonly refusePushes?: () => boolean }): Promise<void>;
}

async function demoServer(version: string): Promise<DemoServer> {
  const data = await tempFolder('data');
  folders.push(data);
  const dataDir = `${data.path}/strata`;
  let server: NodeServer | undefined = await startTestServer({
    staticDir: builds[version] as string,
    dataDir,
  });
  const { url, port } = server;
  const stop = async () => {
    await server?.close();
    server = undefined;
  };
  cleanups.push(stop);
  return {
    url,
    async stop() {
      await stop();
      // The proof that it is down: nothing listens on the port any more.
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    },
    async start(next, options = {}) {
      await stop();
      const { refusePushes } = options;
      server = await startTestServer({
        staticDir: builds[next] as string,
        dataDir,
        port,
        // The demo's one user, as the server names it; pushes fail (a 500) while refused.
        ...(refusePushes === undefined
          ? {}
          : {
              authenticate: (request: Request) => {
                if (refusePushes() && new URL(request.url).pathname.endsWith('/push')) {
                  throw new Error('pushes are refused for now (test)');
                }
                return { tenant: 'default', subject: 'anonymous' };
              },
            }),
      });
    },
  };
}

async function newContext(): Promise<BrowserContext> {
  const context = await browser.newContext();
  contexts.push(context);
  return context;
}

function watch(page: Page, label: string): Page {
  page.on('pageerror', (error) => pageErrors.push(`${label}: ${error.message}`));
  return page;
}

/** Opens the app in a new tab of `context`, once its service worker controls it. */
async function openApp(context: BrowserContext, url: string, label: string): Promise<Page> {
  const page = watch(await context.newPage(), label);
  await page.goto(url);
  await waitReady(page);
  await waitControlled(page);
  return page;
}

async function waitReady(page: Page): Promise<void> {
  await page.locator('section.todoapp input.new-todo').waitFor({ timeout: 15_000 });
  await page.locator('.sync-status[data-leader]').waitFor({ state: 'attached', timeout: 15_000 });
}

/** The service worker is installed (every file precached), active, and answers this page. */
async function waitControlled(page: Page): Promise<void> {
  await page.waitForFunction(
    () => navigator.serviceWorker.controller?.state === 'activated',
    null,
    {
      timeout: 30_000,
    },
  );
}

/** Generous: after a restart the sync client finds the server on its next retry (backoff). */
const poll = { timeout: 60_000, interval: 100 } as const;

const statusOf = (page: Page, name: 'online' | 'connected' | 'pending' | 'leader') =>
  page.locator('.sync-status').getAttribute(`data-${name}`);

const versionOf = (page: Page) => page.locator('.app-version').getAttribute('data-version');

async function expectSynced(page: Page): Promise<void> {
  await expect.poll(() => statusOf(page, 'connected'), poll).toBe('true');
  await expect.poll(() => statusOf(page, 'pending'), poll).toBe('0');
}

async function addTodo(page: Page, title: string): Promise<void> {
  const input = page.locator('input.new-todo');
  await input.fill(title);
  await input.press('Enter');
  await expect.poll(() => input.inputValue()).toBe('');
}

function shown(page: Page): Promise<string[]> {
  return page.locator('ul.todo-list > li label').allTextContents();
}

/** The titles of the todos added on the server, one entry per stored `TodoAdded`. */
function addedTitles(events: readonly ServerEvent[]): string[] {
  return events
    .filter((event) => event.type === 'TodoAdded')
    .map((event) => (event.data as { title: string }).title);
}

/**
 * The server holds exactly these added todos. (The status alone can read "0 pending" in the
 * moment between a cleared input and its command's transaction.)
 */
async function expectOnServer(url: string, titles: readonly string[]): Promise<void> {
  await expect
    .poll(async () => addedTitles(await serverEvents(url)).sort(), poll)
    .toEqual([...titles].sort());
}

/** No event stored twice: every (todo, version) once. */
function expectNoDuplicates(events: readonly ServerEvent[]): void {
  const places = events.map((event) => `${event.aggregateId}@${event.version}`);
  expect(new Set(places).size).toBe(places.length);
}

describe('the demo as an installed app', () => {
  it('serves its service worker and manifest so that updates are found', async () => {
    const server = await demoServer(V1);
    const sw = await fetch(`${server.url}/sw.js`);
    expect(sw.status).toBe(200);
    expect(sw.headers.get('content-type')).toMatch(/^text\/javascript/);
    // Revalidated on every update check: a stale worker script would hide a new deployment.
    expect(sw.headers.get('cache-control')).toBe('no-cache');
    expect(await sw.text()).toContain('precacheAndRoute');
    const manifest = await fetch(`${server.url}/manifest.webmanifest`);
    expect(manifest.headers.get('content-type')).toMatch(/^application\/manifest\+json/);
    expect(await manifest.json()).toMatchObject({ start_url: '/', display: 'standalone' });

    // Chromium finds it installable: manifest, icons, a worker that handles fetches. (Not in
    // a fresh context: those are incognito, where nothing installs. A profile folder instead.)
    const profile = await tempFolder('profile');
    folders.push(profile);
    const installing = await chromium.launchPersistentContext(profile.path, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
    });
    cleanups.push(() => installing.close());
    const page = await openApp(installing, server.url, 'install');
    const cdp = await installing.newCDPSession(page);
    const { errors } = (await cdp.send('Page.getAppManifest')) as { errors: unknown[] };
    expect(errors).toEqual([]);
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as {
      installabilityErrors: { errorId: string }[];
    };
    expect(installabilityErrors).toEqual([]);
    expect(await versionOf(page)).toBe(V1);
  });

  it('opens offline after one visit, and what is done then syncs when the server returns', async () => {
    const server = await demoServer(V1);
    const context = await newContext();
    const online = await openApp(context, server.url, 'online');
    const before = ['Pack the tent', 'Buy a map', 'Charge the torch'];
    for (const title of before) await addTodo(online, title);
    await expectOnServer(server.url, before);
    await expectSynced(online);
    // The server's own routes are the server's, not the cached shell, for a controlled page too.
    for (const path of ['/healthz', '/metrics', '/v1/nothing-here']) {
      const reply = await online.goto(`${server.url}${path}`);
      expect(reply?.fromServiceWorker(), path).toBe(false);
      expect(await online.locator('section.todoapp').count(), path).toBe(0);
    }
    await online.close();

    await server.stop();
    // A new page load with nothing listening: the shell comes from the service worker's cache,
    // the todos from IndexedDB.
    const offline = watch(await context.newPage(), 'offline');
    const response = await offline.goto(server.url);
    expect(response?.fromServiceWorker()).toBe(true);
    await waitReady(offline);
    await expect.poll(() => shown(offline)).toEqual(before);
    // Until the new page's sync session shares its own, the status is the last session's.
    await expect.poll(() => statusOf(offline, 'connected'), poll).toBe('false');
    // The sync API is never answered from the cache: with the server down it fails, both as a
    // request and as a navigation (no app shell in its place).
    expect(
      await offline.evaluate(() =>
        fetch('/v2/pull', { method: 'POST', body: '{}' }).then(
          (reply) => `answered ${reply.status}`,
          () => 'failed',
        ),
      ),
    ).toBe('failed');
    const probe = await context.newPage();
    await expect(probe.goto(`${server.url}/healthz`)).rejects.toThrow();
    await probe.close();

    await addTodo(offline, 'Added with the server down');
    await expect.poll(() => shown(offline)).toEqual([...before, 'Added with the server down']);
    expect(Number(await statusOf(offline, 'pending'))).toBeGreaterThan(0);

    await server.start(V1);
    await expectSynced(offline);
    const stored = await serverEvents(server.url);
    expect(addedTitles(stored).sort()).toEqual([...before, 'Added with the server down'].sort());
    expectNoDuplicates(stored);
  }, 150_000);

  it('takes a new deployment after the prompt, with the pending command intact', async () => {
    const server = await demoServer(V1);
    const context = await newContext();
    const first = await openApp(context, server.url, 'tab-1');
    const second = await openApp(context, server.url, 'tab-2');
    expect([await versionOf(first), await versionOf(second)]).toEqual([V1, V1]);
    await addTodo(first, 'Before the update');
    await expectOnServer(server.url, ['Before the update']);
    await expectSynced(first);
    expect(await first.locator('.update-prompt').count()).toBe(0);

    // The server goes down for the deployment; a command made meanwhile waits on the device.
    await server.stop();
    await addTodo(first, 'Pending across the update');
    await expect.poll(() => statusOf(first, 'pending')).toBe('1');
    // v2 is deployed, but refuses pushes for now: the command is still pending when the user
    // reloads, which is the case the prompt is for.
    let refusing = true;
    await server.start(V2, { refusePushes: () => refusing });

    // Both tabs find the new version (on reconnecting) and ask; neither reloads on its own.
    for (const tab of [first, second]) {
      await tab.locator('.update-prompt[data-state="waiting"]').waitFor({ timeout: poll.timeout });
      expect(await tab.locator('.update-prompt').textContent()).toMatch(
        /A new version is available — Reload/,
      );
    }
    await second.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    expect(await versionOf(first)).toBe(V1);
    expect(await statusOf(first, 'pending')).toBe('1');

    await first.locator('.update-prompt button.update-reload').click();
    await expect.poll(() => versionOf(first), poll).toBe(V2);
    await waitReady(first);
    // The command made offline under v1 is still there, still pending, under v2.
    await expect
      .poll(() => shown(first))
      .toEqual(['Before the update', 'Pending across the update']);
    expect(await statusOf(first, 'pending')).toBe('1');
    expect(await first.locator('.update-prompt').count()).toBe(0);
    // The other tab now runs under the new worker too, but was not reloaded behind its back: it
    // says so and waits for its own Reload.
    await second
      .locator('.update-prompt[data-state="activated"]')
      .waitFor({ timeout: poll.timeout });
    expect(
      await second.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
    ).toBe(true);
    expect(await versionOf(second)).toBe(V1);
    expect(addedTitles(await serverEvents(server.url))).toEqual(['Before the update']);

    refusing = false;
    await expectSynced(first);
    await second.locator('.update-prompt button.update-reload').click();
    await expect.poll(() => versionOf(second), poll).toBe(V2);
    await waitReady(second);
    await expect
      .poll(() => shown(second))
      .toEqual(['Before the update', 'Pending across the update']);
    await expectSynced(second);

    // Nothing lost, nothing twice.
    const stored = await serverEvents(server.url);
    expect(addedTitles(stored)).toEqual(['Before the update', 'Pending across the update']);
    expectNoDuplicates(stored);
  }, 180_000);
});
