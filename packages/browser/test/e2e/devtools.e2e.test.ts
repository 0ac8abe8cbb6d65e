import { newKsuid } from '@strata/core';
import { Todo } from '@strata/example-todo';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@strata/tooling/chromium';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DevtoolsAppApi } from './devtools-app.ts';
import { startE2eSyncServer } from './e2e-sync-server.ts';
import { serveTestApp, type TestAppServer } from './serve-test-app.ts';

// The devtools panel in real Chromium over a live app that syncs with the real edge server on a
// real Postgres (issue 17, "devtools panel tested in Chromium against a live app"): the status
// says connected and then offline, the outbox fills offline and empties when the network comes
// back, the timeline shows the pushes and reconnects, another device's events show up in the
// log, and a command the server refuses shows up under Rejected. The page is devtools-app.ts;
// everything is read from the panel's DOM, as a developer would read it.

let browser: Browser;
let app: TestAppServer;
const contexts: BrowserContext[] = [];
const cleanups: (() => Promise<void>)[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  [browser, app] = await Promise.all([
    chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] }),
    serveTestApp({ entry: new URL('./devtools-app.ts', import.meta.url) }),
  ]);
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** An edge server on a fresh Postgres database that lets the test page's origin call it. */
async function startSyncServer() {
  const server = await startE2eSyncServer({
    name: 'strata_devtools',
    origins: [app.origin],
    cleanups,
    server: { aggregates: [Todo], foldThroughEvolve: true },
  });
  return {
    url: server.url,
    /** Another device runs a Todo command through the server (it decides). */
    async command(aggregateId: string, name: string, input: object) {
      await server
        .client('other-device')
        .command({ aggregateType: 'Todo', aggregateId, name, input });
    },
  };
}

async function openApp(server: { url: string }): Promise<{ page: Page; context: BrowserContext }> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  const db = `e2e-devtools-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  await page.goto(app.url({ db, server: server.url }));
  await page.waitForFunction(
    () => window.devtoolsApp !== undefined || window.devtoolsAppError !== undefined,
    undefined,
    { timeout: 10_000 },
  );
  const error = await page.evaluate(() => window.devtoolsAppError);
  if (error !== undefined) throw new Error(`devtools app failed to start: ${error}`);
  return { page, context };
}

function execute(page: Page, ...args: Parameters<DevtoolsAppApi['execute']>) {
  return page.evaluate(async ([id, command, input]) => {
    const api = window.devtoolsApp;
    if (api === undefined) throw new Error('not started');
    return api.execute(id, command, input);
  }, args);
}

const poll = { timeout: 15_000 } as const;
const panel = (page: Page) => page.locator('[data-strata-devtools]');
const status = (page: Page, name: string) => panel(page).locator(`[data-status="${name}"]`);
const rows = (page: Page, kind: string) =>
  panel(page).locator(`[data-devtools-entry="${kind}"] > summary`);
const openTab = (page: Page, name: string) => page.getByRole('tab', { name }).click();

describe('devtools panel over a live app and a real edge server', () => {
  it('status, outbox, timeline, log and rejected follow sync', async () => {
    const server = await startSyncServer();
    const { page, context } = await openApp(server);

    // Online and caught up.
    await openTab(page, 'Status');
    await expect.poll(() => status(page, 'connected').textContent(), poll).toBe('yes, live');
    expect(await status(page, 'leader').textContent()).toBe('yes, this tab syncs');
    expect(await status(page, 'pending').textContent()).toBe('0');

    const id = newKsuid();
    expect(await execute(page, id, 'add', { title: 'synced first' })).toMatchObject({ ok: true });
    await expect.poll(() => status(page, 'last synced').textContent(), poll).not.toBe('never');
    await expect.poll(() => status(page, 'pending').textContent(), poll).toBe('0');

    // Offline: the status says so, and the outbox fills with what the user does.
    await context.setOffline(true);
    await expect.poll(() => status(page, 'online').textContent(), poll).toBe('no');
    await expect.poll(() => status(page, 'connected').textContent(), poll).toBe('no');
    expect(await execute(page, id, 'rename', { title: 'renamed offline' })).toMatchObject({
      ok: true,
    });
    const other = newKsuid();
    expect(await execute(page, other, 'add', { title: 'added offline' })).toMatchObject({
      ok: true,
    });
    await expect.poll(() => status(page, 'pending').textContent(), poll).toBe('2');
    await openTab(page, 'Outbox');
    await expect
      .poll(() => rows(page, 'outbox').allTextContents(), poll)
      .toEqual([
        expect.stringContaining(`rename on Todo/${id}`),
        expect.stringContaining(`add on Todo/${other}`),
      ]);

    // Meanwhile another device removes the todo this one renamed offline.
    await server.command(id, 'remove', {});

    // Back online: the outbox empties, the rename comes back rejected, the log has it all.
    await context.setOffline(false);
    await page.evaluate(() => window.devtoolsApp?.syncNow());
    await expect.poll(() => rows(page, 'outbox').count(), poll).toBe(0);
    expect(await panel(page).textContent()).toContain('Nothing pending');
    await openTab(page, 'Rejected');
    await expect
      .poll(() => rows(page, 'rejected').allTextContents(), poll)
      .toEqual([expect.stringContaining(`rename on Todo/${id}`)]);

    await openTab(page, 'Log');
    await expect
      .poll(() => rows(page, 'log').allTextContents(), poll)
      .toEqual(
        expect.arrayContaining([
          expect.stringMatching(new RegExp(`Todo/${id} v2 TodoRemoved confirmed`)),
          expect.stringMatching(new RegExp(`Todo/${other} v1 TodoAdded confirmed`)),
        ]),
      );
    expect(await rows(page, 'log').allTextContents()).not.toContainEqual(
      expect.stringContaining('TodoRenamed'),
    );

    // Another device's new todo arrives over the live stream and shows up at the top.
    const third = newKsuid();
    await server.command(third, 'add', { title: 'from the other device' });
    await expect
      .poll(async () => (await rows(page, 'log').first().textContent()) ?? '', poll)
      .toContain(`Todo/${third} v1 TodoAdded confirmed`);

    await openTab(page, 'Timeline');
    const kinds = () =>
      panel(page)
        .locator('[data-activity]')
        .evaluateAll((items) => items.map((item) => item.getAttribute('data-activity')));
    await expect.poll(kinds, poll).toEqual(expect.arrayContaining(['push', 'live', 'connect']));
    const timeline = (await kinds()).reverse();
    // Oldest first: leadership, the catch-up, connected; the disconnect while offline; pushes
    // and a connect after it.
    expect(timeline[0]).toBe('leader');
    const disconnect = timeline.indexOf('disconnect');
    expect(disconnect).toBeGreaterThan(timeline.indexOf('connect'));
    expect(timeline.lastIndexOf('connect')).toBeGreaterThan(disconnect);
    expect(timeline.lastIndexOf('push')).toBeGreaterThan(disconnect);
  });
});
