import type { CommandPushResponse } from '@strata/core';
import { Todo } from '@strata/example-todo';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@strata/tooling/chromium';
import type { syncClient } from '@strata/tooling/sync/sync-client';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startE2eSyncServer } from './e2e-sync-server.ts';
import { serveTestApp, type TestAppServer } from './serve-test-app.ts';
import type { StrataSyncApi, TodoCommandName } from './sync-app.ts';

// The sync client in real Chromium against the real edge server on a real Postgres: two devices
// (two browser contexts, each its own IndexedDB) converge, and of two tabs of one device only
// the Web Lock holder syncs, until it closes and the other takes over. The page is
// `sync-app.ts`; each test gets its own server on its own database.

let browser: Browser;
let app: TestAppServer;
const contexts: BrowserContext[] = [];
const cleanups: (() => Promise<void>)[] = [];
const pageErrors: string[] = [];
/** Requests each page made to its sync server, as `METHOD /path`. */
const syncRequests = new Map<Page, string[]>();

beforeAll(async () => {
  [browser, app] = await Promise.all([
    chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] }),
    serveTestApp({ entry: new URL('./sync-app.ts', import.meta.url) }),
  ]);
});

afterEach(async () => {
  // Pages first, so that no client is connected when its server stops.
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  syncRequests.clear();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

interface SyncServer {
  readonly url: string;
  /** Every event on the server, in global order (read from Node, not through a page). */
  events(): ReturnType<ReturnType<typeof syncClient>['pullAll']>;
  /**
   * Another device (from Node) runs a Todo command through the server: a protocol 2 push of
   * the command alone, which the server decides (authority `decide`).
   */
  command(
    clientId: string,
    aggregateId: string,
    name: TodoCommandName,
    input: object,
  ): Promise<CommandPushResponse>;
}

/** An edge server on a fresh Postgres database that lets the test page's origin call it. */
async function startSyncServer(): Promise<SyncServer> {
  const server = await startE2eSyncServer({
    name: 'strata_e2e',
    origins: [app.origin],
    cleanups,
    server: { aggregates: [Todo], foldThroughEvolve: true },
  });
  return {
    ...server,
    command: (clientId, aggregateId, name, input) =>
      server.client(clientId).command({ aggregateType: 'Todo', aggregateId, name, input }),
  };
}

let databases = 0;
/** An IndexedDB name no other test (or earlier run) has used. */
const freshDatabase = (label: string) =>
  `e2e-sync-${label}-${Date.now().toString(36)}-${databases++}-${Math.random().toString(36).slice(2, 8)}`;

async function newContext(): Promise<BrowserContext> {
  const context = await browser.newContext();
  contexts.push(context);
  return context;
}

/** Opens the sync page on `db`, syncing with `server`, and waits until its runtime started. */
async function openApp(
  context: BrowserContext,
  db: string,
  server: SyncServer,
  params: { readonly retryAfterMs?: number } = {},
): Promise<Page> {
  const page = await context.newPage();
  const requests: string[] = [];
  syncRequests.set(page, requests);
  page.on('pageerror', (error) => pageErrors.push(`${db}: ${error.message}`));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin === new URL(server.url).origin) {
      requests.push(`${request.method()} ${url.pathname}`);
    }
  });
  await page.goto(app.url({ db, server: server.url, ...params }));
  await page.waitForFunction(
    () => window.strataSync !== undefined || window.strataSyncError !== undefined,
    undefined,
    { timeout: 10_000 },
  );
  const error = await page.evaluate(() => window.strataSyncError);
  if (error !== undefined) throw new Error(`sync app failed to start: ${error}`);
  return page;
}

type Method = {
  [K in keyof StrataSyncApi]: StrataSyncApi[K] extends (...args: never[]) => unknown ? K : never;
}[keyof StrataSyncApi];

/** Calls a method of the page's `window.strataSync`. */
function call<M extends Method>(
  page: Page,
  method: M,
  ...args: Parameters<StrataSyncApi[M]>
): Promise<Awaited<ReturnType<StrataSyncApi[M]>>> {
  return page.evaluate(
    ([name, values]) => {
      const api = window.strataSync;
      if (api === undefined) throw new Error('window.strataSync is not ready');
      return Reflect.apply(api[name], api, values) as unknown;
    },
    [method, args as unknown[]] as const,
  ) as Promise<Awaited<ReturnType<StrataSyncApi[M]>>>;
}

async function mustExecute(
  page: Page,
  id: string,
  command: TodoCommandName,
  input: { readonly title?: string } = {},
) {
  const outcome = await call(page, 'execute', id, command, input);
  expect(outcome, `${command} ${id}`).toMatchObject({ ok: true });
}

/** Polls generously: a change crosses page → server → Postgres → SSE → page. */
const poll = { timeout: 15_000, interval: 50 } as const;

/** The ids of the server's events on `aggregateId`. */
async function serverEventsOf(server: SyncServer, aggregateId: string) {
  const events = await server.events();
  return events.filter((event) => event.aggregateId === aggregateId).map((event) => event.id);
}

/** The page holds exactly the server's events, all confirmed, and nothing is pending. */
async function expectConverged(server: SyncServer, ...pages: Page[]) {
  const upstream = (await server.events())
    .map((event) => `${event.id}@${event.aggregateId}/${event.version}`)
    .sort();
  for (const page of pages) {
    const local = await call(page, 'events');
    expect(local.filter((event) => event.pending)).toEqual([]);
    expect(
      local.map((event) => `${event.id}@${event.aggregateId}/${event.version}`).sort(),
    ).toEqual(upstream);
    expect(await call(page, 'pendingCount')).toBe(0);
    expect(await call(page, 'rejected')).toEqual([]);
  }
}

/** Which of `pages` report `status.leader`. */
const leaders = async (pages: readonly Page[]) =>
  Promise.all(pages.map(async (page) => (await call(page, 'status'))?.leader === true));

describe('sync in Chromium through the edge server on Postgres', () => {
  it('delivers commands between two devices, into the projection and the loaded state', async () => {
    const server = await startSyncServer();
    const db = freshDatabase('devices');
    // Two browser contexts: two devices, each with its own IndexedDB (same database name).
    const alice = await openApp(await newContext(), db, server);
    const bob = await openApp(await newContext(), db, server);
    const clientIds = await Promise.all(
      [alice, bob].map((page) => page.evaluate(() => window.strataSync?.clientId)),
    );
    expect(clientIds[0]).not.toBe(clientIds[1]);

    await mustExecute(alice, 'todo-1', 'add', { title: 'Buy milk' });
    await mustExecute(alice, 'todo-2', 'add', { title: 'Walk the dog' });
    await mustExecute(alice, 'todo-1', 'complete');
    await expect
      .poll(() => call(bob, 'todos'), poll)
      .toEqual([
        { id: 'todo-1', title: 'Buy milk', status: 'completed' },
        { id: 'todo-2', title: 'Walk the dog', status: 'active' },
      ]);
    expect(await call(bob, 'states')).toEqual({
      'todo-1': { status: 'completed', title: 'Buy milk' },
      'todo-2': { status: 'active', title: 'Walk the dog' },
    });

    // And back: Bob's commands build on Alice's events and reach her.
    await mustExecute(bob, 'todo-2', 'rename', { title: 'Walk the cat' });
    await mustExecute(bob, 'todo-1', 'reopen');
    await mustExecute(bob, 'todo-3', 'add', { title: 'Call mum' });
    await expect
      .poll(() => call(alice, 'todos'), poll)
      .toEqual([
        { id: 'todo-1', title: 'Buy milk', status: 'active' },
        { id: 'todo-2', title: 'Walk the cat', status: 'active' },
        { id: 'todo-3', title: 'Call mum', status: 'active' },
      ]);
    expect(await call(alice, 'states')).toEqual({
      'todo-1': { status: 'active', title: 'Buy milk' },
      'todo-2': { status: 'active', title: 'Walk the cat' },
      'todo-3': { status: 'active', title: 'Call mum' },
    });

    await expect.poll(() => expectConverged(server, alice, bob).then(() => true), poll).toBe(true);
    expect(await server.events()).toHaveLength(6);
    for (const page of [alice, bob]) {
      // Each device is its own leader, live on the server, with no failure left over.
      const status = await call(page, 'status');
      expect(status).toMatchObject({ leader: true, online: true, connected: true, pending: 0 });
      expect(status?.catchUp.done).toBe(true);
      expect(status?.lastError).toBeUndefined();
      expect(status?.lastSyncedAt).toEqual(expect.any(String));
    }
  });

  it('syncs through the one leader tab of a device, and hands over when it closes', async () => {
    const server = await startSyncServer();
    const db = freshDatabase('leader');
    const context = await newContext();
    const pages = [await openApp(context, db, server), await openApp(context, db, server)];

    await expect.poll(async () => (await leaders(pages)).filter(Boolean).length, poll).toBe(1);
    const leaderIndex = (await leaders(pages)).indexOf(true);
    const leader = pages[leaderIndex] as Page;
    const follower = pages[1 - leaderIndex] as Page;
    // The follower sees the leader's connection through the shared database.
    await expect.poll(async () => (await call(follower, 'status'))?.connected, poll).toBe(true);
    expect(await leaders([leader, follower])).toEqual([true, false]);

    // A command in the follower tab reaches the server: the leader pushes it.
    await mustExecute(follower, 'todo-f1', 'add', { title: 'From the follower' });
    await mustExecute(leader, 'todo-l1', 'add', { title: 'From the leader' });
    await expect.poll(() => serverEventsOf(server, 'todo-f1'), poll).toHaveLength(1);
    await expect.poll(() => serverEventsOf(server, 'todo-l1'), poll).toHaveLength(1);
    await expect
      .poll(() => expectConverged(server, leader, follower).then(() => true), poll)
      .toBe(true);
    // Only the leader talked to the server.
    expect(syncRequests.get(follower)).toEqual([]);
    expect(syncRequests.get(leader)).toEqual(
      expect.arrayContaining(['GET /v1/pull', 'GET /v1/subscribe', 'POST /v2/push']),
    );
    expect(await leaders([leader, follower])).toEqual([true, false]);

    // The leader tab closes: the browser hands the lock to the other tab, which takes over.
    await leader.close();
    await expect.poll(async () => (await call(follower, 'status'))?.leader, poll).toBe(true);

    await mustExecute(follower, 'todo-f2', 'add', { title: 'After the handover' });
    await expect.poll(() => serverEventsOf(server, 'todo-f2'), poll).toHaveLength(1);

    // Another device pushes; the new leader receives it.
    const response = await server.command('another-device', 'todo-r1', 'add', {
      title: 'From elsewhere',
    });
    expect(response.results).toEqual([expect.objectContaining({ status: 'accepted' })]);
    await expect
      .poll(() => call(follower, 'todos'), poll)
      .toEqual([
        { id: 'todo-f1', title: 'From the follower', status: 'active' },
        { id: 'todo-f2', title: 'After the handover', status: 'active' },
        { id: 'todo-l1', title: 'From the leader', status: 'active' },
        { id: 'todo-r1', title: 'From elsewhere', status: 'active' },
      ]);
    expect(await call(follower, 'states')).toMatchObject({
      'todo-r1': { status: 'active', title: 'From elsewhere' },
    });
    await expect.poll(() => expectConverged(server, follower).then(() => true), poll).toBe(true);
    expect(syncRequests.get(follower)).toEqual(
      expect.arrayContaining(['GET /v1/pull', 'GET /v1/subscribe', 'POST /v2/push']),
    );
    const status = await call(follower, 'status');
    expect(status).toMatchObject({ leader: true, connected: true, pending: 0 });
    expect(status?.lastError).toBeUndefined();
  });

  it('retries at once when the browser comes back online, not after its backoff', async () => {
    const server = await startSyncServer();
    const context = await newContext();
    // Every failure waits a minute: only the online event can bring the sync back sooner.
    const page = await openApp(context, freshDatabase('online'), server, { retryAfterMs: 60_000 });
    await expect.poll(async () => (await call(page, 'status'))?.connected, poll).toBe(true);

    await context.setOffline(true);
    await expect.poll(async () => (await call(page, 'status'))?.online, poll).toBe(false);
    // Emulated offline leaves open streams alone; the client closes its own on `offline`.
    await expect.poll(async () => (await call(page, 'status'))?.connected, poll).toBe(false);
    await mustExecute(page, 'todo-o1', 'add', { title: 'Written offline' });
    // The push failed (no network) and is now waiting out its minute.
    await expect
      .poll(async () => (await call(page, 'status'))?.lastError?.code, poll)
      .toBe('UNAVAILABLE');
    expect(await serverEventsOf(server, 'todo-o1')).toEqual([]);

    await context.setOffline(false);
    await expect
      .poll(() => serverEventsOf(server, 'todo-o1'), { timeout: 10_000, interval: 50 })
      .toHaveLength(1);
    await expect.poll(() => expectConverged(server, page).then(() => true), poll).toBe(true);
    // The live stream reopens after the catch-up pull, so it may trail convergence a little;
    // well inside the poll's timeout, far below the minute of backoff.
    await expect
      .poll(() => call(page, 'status'), poll)
      .toMatchObject({ online: true, connected: true, pending: 0 });
  });
});
