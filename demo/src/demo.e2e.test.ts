import type { NodeServer } from '@strata/edge-server/node';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@strata/tooling/chromium';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  buildDemo,
  serveFilesWhileDown,
  serverEvents,
  startTestServer,
  tempFolder,
} from '../e2e/harness.ts';

// The TodoMVC demo as a user meets it: the built app and the sync API from one edge server on
// PGlite (as `pnpm start` runs it), in real Chromium. Two browser contexts are two devices (each
// its own IndexedDB); two pages of one context are two tabs. The app is built once, into a
// temporary folder; each test gets its own server and data folder.

let browser: Browser;
let staticDir: string;
const folders: { remove(): Promise<void> }[] = [];
const contexts: BrowserContext[] = [];
const cleanups: (() => Promise<void>)[] = [];
const pageErrors: string[] = [];
/** Requests each page made to the sync API, as `METHOD /path`. */
const apiRequests = new Map<Page, string[]>();

beforeAll(async () => {
  const dist = await tempFolder('dist');
  folders.push(dist);
  staticDir = dist.path;
  [browser] = await Promise.all([
    chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] }),
    buildDemo(staticDir),
  ]);
}, 120_000);

afterEach(async () => {
  // Pages first, so that no client is connected when its server stops.
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  apiRequests.clear();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  for (const folder of folders) await folder.remove();
});

/** A running demo server on a data folder of its own, which can be stopped and started again. */
interface DemoServer {
  readonly url: string;
  stop(): Promise<void>;
  /** A new server on the same port and data folder. */
  restart(): Promise<void>;
}

async function startServer(): Promise<DemoServer> {
  const data = await tempFolder('data');
  folders.push(data);
  const dataDir = `${data.path}/strata`;
  let server: NodeServer | undefined = await startTestServer({ staticDir, dataDir });
  const { url, port } = server;
  const stop = async () => {
    await server?.close();
    server = undefined;
  };
  cleanups.push(stop);
  return {
    url,
    stop,
    async restart() {
      await stop();
      server = await startTestServer({ staticDir, dataDir, port });
    },
  };
}

async function newContext(
  options: { readonly viewport?: { width: number; height: number } } = {},
): Promise<BrowserContext> {
  const context = await browser.newContext(options);
  contexts.push(context);
  return context;
}

/** Opens the app in a new page (a tab) of `context` and waits until it shows its list. */
async function openApp(context: BrowserContext, server: DemoServer, label: string): Promise<Page> {
  const page = await context.newPage();
  const requests: string[] = [];
  apiRequests.set(page, requests);
  page.on('pageerror', (error) => pageErrors.push(`${label}: ${error.message}`));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (/^\/v[12]\//.test(url.pathname)) requests.push(`${request.method()} ${url.pathname}`);
  });
  await page.goto(server.url);
  await waitReady(page);
  return page;
}

async function waitReady(page: Page): Promise<void> {
  await page.locator('section.todoapp input.new-todo').waitFor({ timeout: 15_000 });
  await page.locator('.sync-status[data-leader]').waitFor({ state: 'attached', timeout: 15_000 });
}

/** Polls generously: a change crosses page → server → PGlite → SSE → page. */
const poll = { timeout: 30_000, interval: 50 } as const;

const statusOf = (page: Page, name: 'online' | 'connected' | 'pending' | 'leader') =>
  page.locator('.sync-status').getAttribute(`data-${name}`);

/** Everything this page did reached the server, and it follows the server's changes. */
async function expectSynced(page: Page): Promise<void> {
  await expect.poll(() => statusOf(page, 'connected'), poll).toBe('true');
  await expect.poll(() => statusOf(page, 'pending'), poll).toBe('0');
}

/**
 * Every page shows `expected` (in any order: todos made on two devices at about the same time
 * may interleave either way) and the same order as the others, with nothing left to sync.
 */
async function expectConverged(
  expected: readonly string[],
  pages: readonly Page[],
  timeout: number = poll.timeout,
): Promise<void> {
  const sorted = (titles: readonly string[]) => [...titles].sort();
  for (const page of pages) {
    await expect
      .poll(async () => sorted(await shown(page)), { ...poll, timeout })
      .toEqual(sorted(expected));
    await expectSynced(page);
  }
  const [first, ...others] = await Promise.all(pages.map(shown));
  for (const other of others) expect(other).toEqual(first);
}

async function addTodo(page: Page, title: string): Promise<void> {
  const input = page.locator('input.new-todo');
  await input.fill(title);
  await input.press('Enter');
  await expect.poll(() => input.inputValue()).toBe('');
}

/** The list as shown: `title` for active todos, `title ✓` for completed ones. */
async function shown(page: Page): Promise<string[]> {
  return page
    .locator('ul.todo-list > li')
    .evaluateAll((items) =>
      items.map(
        (item) =>
          `${item.querySelector('label')?.textContent ?? '?'}${item.classList.contains('completed') ? ' ✓' : ''}`,
      ),
    );
}

const todo = (page: Page, title: string) =>
  page.locator('ul.todo-list > li').filter({ has: page.locator('label', { hasText: title }) });

async function toggle(page: Page, title: string): Promise<void> {
  await todo(page, title).locator('input.toggle').click();
}

async function rename(page: Page, from: string, to: string): Promise<void> {
  await todo(page, from).locator('label').dblclick();
  const edit = page.locator('ul.todo-list > li.editing input.edit');
  await edit.fill(to);
  await edit.press('Enter');
  await expect.poll(() => page.locator('ul.todo-list > li.editing').count()).toBe(0);
}

async function destroy(page: Page, title: string): Promise<void> {
  const item = todo(page, title);
  await item.hover();
  await item.locator('button.destroy').click();
}

const itemsLeft = (page: Page) => page.locator('span.todo-count strong').textContent();

describe('the TodoMVC demo on its edge server', () => {
  it('does what TodoMVC does, and keeps it across a reload', async () => {
    const server = await startServer();
    const page = await openApp(await newContext(), server, 'basics');
    expect(await page.title()).toMatch(/todo/i);
    expect(await shown(page)).toEqual([]);

    await addTodo(page, 'Buy milk');
    await addTodo(page, '  Walk the dog  '); // trimmed
    await addTodo(page, 'Write report');
    await page.locator('input.new-todo').press('Enter'); // nothing to add
    await expect.poll(() => shown(page)).toEqual(['Buy milk', 'Walk the dog', 'Write report']);
    expect(await itemsLeft(page)).toBe('3');
    expect(await page.locator('span.todo-count').textContent()).toMatch(/^3 items left$/);

    await toggle(page, 'Buy milk');
    await expect.poll(() => shown(page)).toEqual(['Buy milk ✓', 'Walk the dog', 'Write report']);
    await expect.poll(() => itemsLeft(page)).toBe('2');

    // Edit: double-click, type, Enter saves; Escape cancels.
    await rename(page, 'Walk the dog', 'Walk the cat');
    await expect.poll(() => shown(page)).toEqual(['Buy milk ✓', 'Walk the cat', 'Write report']);
    await todo(page, 'Walk the cat').locator('label').dblclick();
    const edit = page.locator('ul.todo-list > li.editing input.edit');
    expect(await edit.inputValue()).toBe('Walk the cat');
    await edit.fill('Walk nobody');
    await edit.press('Escape');
    await expect.poll(() => page.locator('ul.todo-list > li.editing').count()).toBe(0);
    expect(await shown(page)).toEqual(['Buy milk ✓', 'Walk the cat', 'Write report']);

    // Filters and counts.
    await page.locator('ul.filters a[href="#/active"]').click();
    await expect.poll(() => shown(page)).toEqual(['Walk the cat', 'Write report']);
    expect(await page.locator('ul.filters a.selected').getAttribute('href')).toBe('#/active');
    await page.locator('ul.filters a[href="#/completed"]').click();
    await expect.poll(() => shown(page)).toEqual(['Buy milk ✓']);
    await page.locator('ul.filters a[href="#/"]').click();
    await expect.poll(() => shown(page)).toHaveLength(3);
    expect(await itemsLeft(page)).toBe('2');

    // The history of a todo: its events, oldest first.
    await todo(page, 'Walk the cat').locator('button.history').click();
    const history = page.locator('aside.history');
    await history.waitFor();
    expect(await history.getAttribute('data-todo-id')).toBeTruthy();
    await expect
      .poll(() =>
        history
          .locator('li.history-event')
          .evaluateAll((items) => items.map((item) => item.getAttribute('data-type'))),
      )
      .toEqual(['TodoAdded', 'TodoRenamed']);

    // Clear completed, destroy, toggle all.
    await page.locator('button.clear-completed').click();
    await expect.poll(() => shown(page)).toEqual(['Walk the cat', 'Write report']);
    expect(await page.locator('button.clear-completed').isVisible()).toBe(false);
    await destroy(page, 'Write report');
    await expect.poll(() => shown(page)).toEqual(['Walk the cat']);
    await expect.poll(() => itemsLeft(page)).toBe('1');
    expect(await page.locator('span.todo-count').textContent()).toMatch(/^1 item left$/);
    await addTodo(page, 'Call mum');
    // In the list before toggling all: toggle-all runs over the todos the list shows.
    await expect.poll(() => shown(page)).toEqual(['Walk the cat', 'Call mum']);
    // A click, not check(): the box is controlled by the list, which changes once the
    // commands are stored, and check() fails when the box has not flipped right after its click.
    const toggleAll = page.locator('input#toggle-all');
    await toggleAll.click();
    await expect.poll(() => shown(page)).toEqual(['Walk the cat ✓', 'Call mum ✓']);
    await expect.poll(() => itemsLeft(page)).toBe('0');
    await expect.poll(() => toggleAll.isChecked()).toBe(true);
    await toggleAll.click();
    await expect.poll(() => shown(page)).toEqual(['Walk the cat', 'Call mum']);
    await expect.poll(() => toggleAll.isChecked()).toBe(false);
    await toggle(page, 'Call mum');

    // Clearing an edit removes the todo (TodoMVC).
    await addTodo(page, 'Short-lived');
    await todo(page, 'Short-lived').locator('label').dblclick();
    await page.locator('ul.todo-list > li.editing input.edit').fill('   ');
    await page.locator('ul.todo-list > li.editing input.edit').press('Enter');
    await expect.poll(() => shown(page)).toEqual(['Walk the cat', 'Call mum ✓']);

    // The filter is in the URL, and everything survives a reload.
    await page.locator('ul.filters a[href="#/active"]').click();
    await expectSynced(page);
    await page.reload();
    await waitReady(page);
    await expect.poll(() => shown(page)).toEqual(['Walk the cat']);
    await page.locator('ul.filters a[href="#/"]').click();
    await expect.poll(() => shown(page)).toEqual(['Walk the cat', 'Call mum ✓']);
    expect(await itemsLeft(page)).toBe('1');
  });

  it('hides, and keeps in the page, .main, .footer and .clear-completed as the app spec says', async () => {
    const server = await startServer();
    const page = await openApp(await newContext(), server, 'empty-states');
    /** Each element: in the page, and whether it is displayed (null: not in the page). */
    const shownParts = () =>
      page.evaluate(() =>
        ['section.main', 'footer.footer', 'button.clear-completed'].map((selector) => {
          const element = document.querySelector<HTMLElement>(`.todoapp ${selector}`);
          return element === null ? null : getComputedStyle(element).display !== 'none';
        }),
      );
    // No todos: all three in the page, none displayed.
    expect(await shownParts()).toEqual([false, false, false]);
    expect(await page.locator('section.main').isVisible()).toBe(false);

    await addTodo(page, 'Only todo');
    // A todo, none completed: the list and the footer, no "Clear completed".
    await expect.poll(shownParts).toEqual([true, true, false]);
    expect(await page.locator('footer.footer').isVisible()).toBe(true);
    await toggle(page, 'Only todo');
    await expect.poll(shownParts).toEqual([true, true, true]);
    expect(await page.locator('button.clear-completed').isVisible()).toBe(true);
    await page.locator('button.clear-completed').click();
    await expect.poll(() => shown(page)).toEqual([]);
    await expect.poll(shownParts).toEqual([false, false, false]);

    // Deleting the last todo hides them again too.
    await addTodo(page, 'Another');
    await toggle(page, 'Another');
    await expect.poll(shownParts).toEqual([true, true, true]);
    await destroy(page, 'Another');
    await expect.poll(shownParts).toEqual([false, false, false]);
    expect(await page.locator('.todoapp section.main, .todoapp footer.footer').count()).toBe(2);
  });

  it('shows each device the changes of the other', async () => {
    const server = await startServer();
    const alice = await openApp(await newContext(), server, 'alice');
    const bob = await openApp(await newContext(), server, 'bob');

    await addTodo(alice, 'From Alice');
    await expect.poll(() => shown(bob), poll).toEqual(['From Alice']);
    await toggle(bob, 'From Alice');
    await addTodo(bob, 'From Bob');
    await expect.poll(() => shown(alice), poll).toEqual(['From Alice ✓', 'From Bob']);
    await rename(alice, 'From Bob', 'From Bob, renamed by Alice');
    await destroy(bob, 'From Alice');
    const expected = ['From Bob, renamed by Alice'];
    await expect.poll(() => shown(alice), poll).toEqual(expected);
    await expect.poll(() => shown(bob), poll).toEqual(expected);
    await expectSynced(alice);
    await expectSynced(bob);
  });

  it('keeps working offline and converges once back online', async () => {
    const server = await startServer();
    const aliceContext = await newContext();
    const alice = await openApp(aliceContext, server, 'alice');
    const bob = await openApp(await newContext(), server, 'bob');
    await addTodo(alice, 'Milk');
    await addTodo(alice, 'Bread');
    await expect.poll(() => shown(bob), poll).toEqual(['Milk', 'Bread']);

    await aliceContext.setOffline(true);
    await expect.poll(() => statusOf(alice, 'online'), poll).toBe('false');
    await addTodo(alice, 'Eggs (offline)');
    await toggle(alice, 'Milk');
    await rename(alice, 'Bread', 'Sourdough');
    await addTodo(bob, 'Coffee (Bob)');
    await expectSynced(bob);
    // Alice's changes show at once and wait in her outbox; none reached the server, so Bob has
    // none of them. (Chromium's offline emulation fails new requests but leaves an open event
    // stream alone, so Bob's todo may already have reached Alice.)
    await expect
      .poll(async () => (await shown(alice)).filter((title) => title !== 'Coffee (Bob)'))
      .toEqual(['Milk ✓', 'Sourdough', 'Eggs (offline)']);
    expect(Number(await statusOf(alice, 'pending'))).toBeGreaterThan(0);
    await expect.poll(() => shown(bob)).toEqual(['Milk', 'Bread', 'Coffee (Bob)']);

    await aliceContext.setOffline(false);
    await expectConverged(['Milk ✓', 'Sourdough', 'Eggs (offline)', 'Coffee (Bob)'], [alice, bob]);
  });

  it('rejects an offline edit of a todo another device removed, and says so', async () => {
    const server = await startServer();
    const aliceContext = await newContext();
    const alice = await openApp(aliceContext, server, 'alice');
    const bob = await openApp(await newContext(), server, 'bob');
    await addTodo(alice, 'Plan trip');
    await addTodo(alice, 'Book hotel');
    await expect.poll(() => shown(bob), poll).toEqual(['Plan trip', 'Book hotel']);
    await expectSynced(alice);
    expect(await alice.locator('.rejected-notice').count()).toBe(0);

    // Alice, offline, renames the todo; then Bob removes it, and that reaches the server first.
    await aliceContext.setOffline(true);
    await expect.poll(() => statusOf(alice, 'online'), poll).toBe('false');
    await rename(alice, 'Plan trip', 'Plan trip to Rome');
    await toggle(alice, 'Book hotel'); // not in conflict: it survives
    expect(await shown(alice)).toEqual(['Plan trip to Rome', 'Book hotel ✓']);
    await destroy(bob, 'Plan trip');
    // Bob's removal is on the server before Alice is back (Bob's status alone could still show
    // the moment before his command).
    await expect
      .poll(async () => (await serverEvents(server.url)).map((event) => event.type), poll)
      .toContain('TodoRemoved');

    await aliceContext.setOffline(false);
    await expectSynced(alice);
    await expect.poll(() => shown(alice), poll).toEqual(['Book hotel ✓']);
    await expect.poll(() => shown(bob), poll).toEqual(['Book hotel ✓']);
    const notice = alice.locator('.rejected-notice[role="alert"]');
    await notice.waitFor({ timeout: poll.timeout });
    expect(await notice.locator('li').allTextContents()).toEqual([
      expect.stringContaining('Plan trip to Rome'),
    ]);
    expect(await bob.locator('.rejected-notice').count()).toBe(0);
    // The server decided every command (authority `decide`): the rename of a removed todo never
    // reached the log, and each stored event names the server's principal, not the device's word.
    const stored = await serverEvents(server.url);
    expect(stored.map((event) => event.type)).not.toContain('TodoRenamed');
    expect(new Set(stored.map((event) => event.metadata.userId))).toEqual(new Set(['anonymous']));

    await notice.locator('button.dismiss').first().click();
    await expect.poll(() => alice.locator('.rejected-notice button.dismiss').count()).toBe(0);
  });

  it('shows the whole list from IndexedDB when reloaded with the server down', async () => {
    const server = await startServer();
    const context = await newContext();
    const page = await openApp(context, server, 'reload');
    const titles = Array.from({ length: 12 }, (_, index) => `Offline item ${index + 1}`);
    for (const title of titles) await addTodo(page, title);
    await toggle(page, 'Offline item 3');
    await expect.poll(() => shown(page)).toContain('Offline item 3 ✓');
    await expectSynced(page);

    await server.stop();
    // No server: the page's files come from the test, as from a cache; the API fails.
    await serveFilesWhileDown(context, new URL(server.url).origin, staticDir);
    await page.reload();
    await waitReady(page);
    const expected = titles.map((title) => (title === 'Offline item 3' ? `${title} ✓` : title));
    await expect.poll(() => shown(page)).toEqual(expected);
    expect(await itemsLeft(page)).toBe('11');
    expect(await statusOf(page, 'connected')).toBe('false');
    // And it still takes commands.
    await addTodo(page, 'Added with the server down');
    await expect.poll(() => shown(page)).toHaveLength(13);
    expect(Number(await statusOf(page, 'pending'))).toBeGreaterThan(0);
  });

  it('shares one list between two tabs, of which only one syncs', async () => {
    const server = await startServer();
    const context = await newContext();
    const first = await openApp(context, server, 'tab-1');
    const second = await openApp(context, server, 'tab-2');
    const bob = await openApp(await newContext(), server, 'bob');
    await expect.poll(() => statusOf(first, 'leader'), poll).toBe('true');
    expect(await statusOf(second, 'leader')).toBe('false');

    await addTodo(second, 'From the second tab');
    await expect.poll(() => shown(first), poll).toEqual(['From the second tab']);
    await expect.poll(() => shown(bob), poll).toEqual(['From the second tab']);
    await addTodo(bob, 'From Bob');
    const both = ['From the second tab', 'From Bob'];
    await expect.poll(() => shown(first), poll).toEqual(both);
    await expect.poll(() => shown(second), poll).toEqual(both);
    // Both tabs report the same status, and only the first one talked to the server.
    await expectSynced(second);
    expect(apiRequests.get(first)?.length).toBeGreaterThan(0);
    expect(apiRequests.get(second)).toEqual([]);
    expect([await statusOf(first, 'leader'), await statusOf(second, 'leader')]).toEqual([
      'true',
      'false',
    ]);

    // The syncing tab closes: the other takes over.
    await first.close();
    await expect.poll(() => statusOf(second, 'leader'), poll).toBe('true');
    await addTodo(bob, 'After the handover');
    await expect.poll(() => shown(second), poll).toEqual([...both, 'After the handover']);
    expect(apiRequests.get(second)?.length).toBeGreaterThan(0);
  });

  it('recovers without a reload when the server restarts', async () => {
    const server = await startServer();
    const alice = await openApp(await newContext(), server, 'alice');
    const bob = await openApp(await newContext(), server, 'bob');
    await addTodo(alice, 'Before the restart');
    await expect.poll(() => shown(bob), poll).toEqual(['Before the restart']);

    await server.stop();
    await expect.poll(() => statusOf(alice, 'connected'), poll).toBe('false');
    await addTodo(alice, 'While the server is down');
    await server.restart();

    await addTodo(bob, 'After the restart');
    // The clients retry with backoff (full jitter, doubling to 30 s): allow for a late retry.
    await expectConverged(
      ['Before the restart', 'While the server is down', 'After the restart'],
      [alice, bob],
      60_000,
    );
  }, 150_000);
});

describe('the demo at desktop and phone widths', () => {
  const desktop = { width: 1100, height: 800 };
  const phone = { width: 390, height: 700 };

  /** The sync status's state, its words and its dot's colour, as shown. */
  const statusShown = (page: Page) =>
    page.locator('.sync-status').evaluate((status) => ({
      state: status.getAttribute('data-state'),
      text: status.textContent,
      dot: getComputedStyle(status.querySelector('.sync-dot') as Element).backgroundColor,
    }));

  /** The status and the heading: their boxes do not meet, and the status is on the screen. */
  async function expectStatusClear(page: Page): Promise<void> {
    const box = await page.evaluate(() => {
      const rect = (selector: string) => {
        const r = document.querySelector(selector)?.getBoundingClientRect();
        if (r === undefined) throw new Error(`no ${selector}`);
        return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
      };
      return {
        status: rect('.sync-status'),
        heading: rect('.todoapp h1'),
        width: document.documentElement.clientWidth,
      };
    });
    const { status, heading } = box;
    const meet =
      status.left < heading.right &&
      heading.left < status.right &&
      status.top < heading.bottom &&
      heading.top < status.bottom;
    expect(meet, JSON.stringify(box)).toBe(false);
    expect(status.left).toBeGreaterThanOrEqual(0);
    expect(status.right).toBeLessThanOrEqual(box.width);
  }

  it('shows the sync state in colour and words, clear of the heading at any width', async () => {
    const server = await startServer();
    const laptopContext = await newContext({ viewport: desktop });
    const laptop = await openApp(laptopContext, server, 'laptop');
    const handset = await openApp(await newContext({ viewport: phone }), server, 'phone');
    await addTodo(laptop, 'Synced todo');
    await expectSynced(laptop);
    await expectSynced(handset);
    const green = 'rgb(46, 139, 87)';
    for (const page of [laptop, handset]) {
      await expect
        .poll(() => statusShown(page), poll)
        .toEqual({ state: 'synced', text: 'Online · synced', dot: green });
      await expectStatusClear(page);
    }

    // The server goes: each page says so in red, with its pending command, and still fits.
    await server.stop();
    for (const page of [laptop, handset]) {
      await expect.poll(() => statusOf(page, 'connected'), poll).toBe('false');
      await addTodo(page, `Written while the server is down (${page === laptop ? 1100 : 390})`);
    }
    for (const page of [laptop, handset]) {
      await expect
        .poll(() => statusShown(page), poll)
        .toEqual({
          state: 'unreachable',
          text: 'Online · server unreachable · 1 pending',
          dot: 'rgb(198, 40, 40)',
        });
      await expectStatusClear(page);
    }
    // The tooltip has human times, not ISO timestamps.
    const title = (await laptop.locator('.sync-status').getAttribute('title')) ?? '';
    expect(title).toMatch(/^Last synced .*ago|^Last synced now/m);
    expect(title).toMatch(/^Last error .+: /m);
    expect(title).not.toMatch(/\d{4}-\d\d-\d\dT/);

    await laptopContext.setOffline(true);
    await expect
      .poll(() => statusShown(laptop), poll)
      .toEqual({
        state: 'offline',
        text: 'Offline · 1 pending',
        dot: 'rgb(148, 148, 148)',
      });
    // Amber while commands wait on a reachable server.
    await laptopContext.setOffline(false);
    await server.restart();
    await expectSynced(laptop);
    await expect
      .poll(() => statusShown(laptop), poll)
      .toMatchObject({ state: 'synced', dot: green });
  }, 90_000);

  it("opens a todo's history in view, with human times", async () => {
    const server = await startServer();
    for (const viewport of [phone, desktop]) {
      const page = await openApp(await newContext({ viewport }), server, `${viewport.width}px`);
      // Ten todos (the phone adds them; the desktop receives them): the list is taller than
      // the phone's screen, and the last one's history opens below the fold of the page.
      if (viewport === phone) {
        for (let index = 1; index <= 10; index++) await addTodo(page, `Todo number ${index}`);
      }
      await expect.poll(() => shown(page), poll).toHaveLength(10);
      const last = page.locator('ul.todo-list > li').last();
      await last.locator('button.history').click();
      const history = page.locator('aside.history');
      await history.locator('li.history-event').first().waitFor();
      await expect
        .poll(
          () =>
            history.evaluate((panel) => {
              const rect = panel.getBoundingClientRect();
              return rect.top >= 0 && rect.bottom <= window.innerHeight && rect.height > 0;
            }),
          poll,
        )
        .toBe(true);
      const time = history.locator('li.history-event time').first();
      expect(await time.textContent()).toMatch(/ago$|^now$/);
      expect(await time.getAttribute('title')).toMatch(/\d{1,2}:\d\d:\d\d/);
      expect(await time.getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    }
  });
});
