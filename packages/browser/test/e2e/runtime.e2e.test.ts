import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@strata/tooling/chromium';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { INDEX_HTML, SCRIPT_PATH, serveTestApp, type TestAppServer } from './serve-test-app.ts';
import type {
  CommandOutcome,
  CommandRequest,
  EventSummary,
  StrataTestApi,
  TodoRow,
  WatchReport,
} from './test-app.ts';

// Several pages of one origin in real Chromium, driven from Node: what Vitest's browser mode
// (one page per test file) cannot show. The page is `test-app.ts`.

let browser: Browser;
let server: TestAppServer;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  [browser, server] = await Promise.all([
    chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
    }),
    serveTestApp(),
  ]);
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

let databases = 0;
/** A database name no other test (or earlier run in the same profile) has used. */
const freshDatabase = (label: string) =>
  `e2e-${label}-${Date.now().toString(36)}-${databases++}-${Math.random().toString(36).slice(2, 8)}`;

async function newContext(): Promise<BrowserContext> {
  const context = await browser.newContext();
  contexts.push(context);
  return context;
}

/** Waits until the page's runtime has started; fails with its start-up error if it had one. */
async function waitReady(page: Page): Promise<void> {
  await page.waitForFunction(
    () => window.strataTest !== undefined || window.strataTestError !== undefined,
    undefined,
    { timeout: 10_000 },
  );
  const error = await page.evaluate(() => window.strataTestError);
  if (error !== undefined) throw new Error(`test app failed to start: ${error}`);
}

async function openApp(
  context: BrowserContext,
  db: string,
  options: { readonly retries?: number } = {},
): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${db}: ${error.message}`));
  await page.goto(server.url({ db, ...options }));
  await waitReady(page);
  return page;
}

type Method = {
  [K in keyof StrataTestApi]: StrataTestApi[K] extends (...args: never[]) => unknown ? K : never;
}[keyof StrataTestApi];

/** Calls a method of the page's `window.strataTest`. */
function call<M extends Method>(
  page: Page,
  method: M,
  ...args: Parameters<StrataTestApi[M]>
): Promise<Awaited<ReturnType<StrataTestApi[M]>>> {
  return page.evaluate(
    ([name, values]) => {
      const api = window.strataTest;
      if (api === undefined) throw new Error('window.strataTest is not ready');
      return Reflect.apply(api[name], api, values) as unknown;
    },
    [method, args as unknown[]] as const,
  ) as Promise<Awaited<ReturnType<StrataTestApi[M]>>>;
}

async function execute(page: Page, request: CommandRequest): Promise<CommandOutcome> {
  return call(page, 'execute', request);
}

async function mustExecute(page: Page, request: CommandRequest) {
  const outcome = await execute(page, request);
  expect(outcome, `${request.command} ${request.id}`).toMatchObject({ ok: true });
  return outcome;
}

/** Waits until a live query in `page` has reported a value that `accept` takes. */
async function untilWatched(
  page: Page,
  key: string,
  accept: (report: WatchReport) => boolean,
): Promise<WatchReport> {
  let report: WatchReport | undefined;
  await expect
    .poll(
      async () => {
        report = await call(page, 'watched', key);
        if (report.error !== undefined) throw new Error(`live query ${key}: ${report.error}`);
        return accept(report);
      },
      { timeout: 5_000, interval: 20 },
    )
    .toBe(true);
  return report as WatchReport;
}

const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, index) => from + index);

/** Everything a page can tell about the local state, for before/after comparisons. */
async function snapshotOf(page: Page, ids: readonly string[]) {
  return {
    todos: await call(page, 'todos'),
    states: await Promise.all(ids.map((id) => call(page, 'load', id))),
    events: await call(page, 'allEvents'),
    pending: await call(page, 'pendingCommands'),
  };
}

describe('@strata/browser in Chromium, several pages of one origin', () => {
  it('restores state and projections on reload with every network request blocked', async () => {
    const db = freshDatabase('reload');
    const context = await newContext();
    const page = await openApp(context, db);

    await mustExecute(page, { id: 'todo-1', command: 'add', input: { title: 'Buy milk' } });
    await mustExecute(page, { id: 'todo-2', command: 'add', input: { title: 'Walk the dog' } });
    await mustExecute(page, { id: 'todo-3', command: 'add', input: { title: 'Call mum' } });
    await mustExecute(page, { id: 'todo-1', command: 'rename', input: { title: 'Buy oat milk' } });
    await mustExecute(page, { id: 'todo-2', command: 'complete', input: {} });
    await mustExecute(page, { id: 'todo-3', command: 'remove', input: {} });
    const ids = ['todo-1', 'todo-2', 'todo-3'];
    const before = await snapshotOf(page, ids);
    expect(before.todos).toEqual<TodoRow[]>([
      { id: 'todo-1', title: 'Buy oat milk', status: 'active', version: 2 },
      { id: 'todo-2', title: 'Walk the dog', status: 'completed', version: 2 },
    ]);
    expect(before.states.map(({ version }) => version)).toEqual([2, 2, 2]);
    expect(before.events).toHaveLength(6);
    expect(before.pending).toHaveLength(6);

    // From here on nothing reaches the network: the document and the script are answered from
    // memory by the route, every other request is aborted and recorded, and the context is
    // offline. State and projections can only come from IndexedDB.
    const pageUrl = server.url({ db });
    const scriptUrl = `${server.origin}${SCRIPT_PATH}`;
    const requested: string[] = [];
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      requested.push(url);
      if (url === pageUrl) {
        await route.fulfill({ status: 200, contentType: 'text/html', body: INDEX_HTML });
      } else if (url === scriptUrl) {
        await route.fulfill({ status: 200, contentType: 'text/javascript', body: server.script });
      } else {
        await route.abort('internetdisconnected');
      }
    });
    await context.setOffline(true);
    const servedBefore = server.requests.length;

    await page.reload();
    await waitReady(page);
    const after = await snapshotOf(page, ids);

    expect(after).toEqual(before);
    expect(requested).toEqual([pageUrl, scriptUrl]);
    expect(server.requests.length).toBe(servedBefore);
    // The page really has no network (whether the browser also reports `navigator.onLine` as
    // false under emulation differs between Chromium releases, so the request itself is tried).
    const probe = `${server.origin}/network-probe`;
    const reached = await page.evaluate(
      (url) =>
        fetch(url).then(
          () => true,
          () => false,
        ),
      probe,
    );
    expect(reached).toBe(false);
    expect(requested.at(-1)).toBe(probe);
    expect(server.requests.length).toBe(servedBefore);

    // Still offline: the runtime keeps working and a rebuild lands on the same rows.
    await mustExecute(page, { id: 'todo-2', command: 'reopen', input: {} });
    const rebuilt = await call(page, 'rebuildProjections');
    expect(rebuilt).toEqual({ done: 7, total: 7 });
    expect(await call(page, 'todos')).toEqual<TodoRow[]>([
      { id: 'todo-1', title: 'Buy oat milk', status: 'active', version: 2 },
      { id: 'todo-2', title: 'Walk the dog', status: 'active', version: 3 },
    ]);
    // Nothing asked for the network but the probe.
    expect(requested).toEqual([pageUrl, scriptUrl, probe]);
  });

  it("shows each page the other's changes through live queries, without a reload", async () => {
    const db = freshDatabase('live');
    const context = await newContext();
    const [a, b] = [await openApp(context, db), await openApp(context, db)];
    await b.evaluate(() => {
      (window as unknown as { marker: string }).marker = 'not reloaded';
    });

    await call(b, 'watchTodos', 'todos');
    await call(b, 'watchState', 'state', 'todo-1');
    await call(a, 'watchTodos', 'todos');
    await untilWatched(b, 'todos', (report) => report.notifications >= 1);
    await untilWatched(b, 'state', (report) => report.notifications >= 1);
    await untilWatched(a, 'todos', (report) => report.notifications >= 1);
    expect((await call(b, 'watched', 'todos')).last).toEqual([]);
    expect((await call(b, 'watched', 'state')).last).toMatchObject({ version: 0 });

    // A writes; B's live queries re-run.
    await mustExecute(a, { id: 'todo-1', command: 'add', input: { title: 'Buy milk' } });
    await untilWatched(b, 'todos', (report) => (report.last as TodoRow[]).length === 1);
    expect((await call(b, 'watched', 'todos')).last).toEqual<TodoRow[]>([
      { id: 'todo-1', title: 'Buy milk', status: 'active', version: 1 },
    ]);
    await untilWatched(b, 'state', (report) => (report.last as { version: number }).version === 1);
    expect((await call(b, 'watched', 'state')).last).toMatchObject({
      state: { status: 'active', title: 'Buy milk' },
      version: 1,
    });

    await mustExecute(a, { id: 'todo-1', command: 'rename', input: { title: 'Buy oat milk' } });
    await untilWatched(b, 'state', (report) => (report.last as { version: number }).version === 2);
    expect((await call(b, 'watched', 'state')).last).toMatchObject({
      state: { status: 'active', title: 'Buy oat milk' },
      version: 2,
    });

    // And the other way round: B writes; A's live query re-runs.
    await mustExecute(b, { id: 'todo-1', command: 'complete', input: {} });
    await untilWatched(a, 'todos', (report) =>
      (report.last as TodoRow[]).some((row) => row.status === 'completed'),
    );
    expect((await call(a, 'watched', 'todos')).last).toEqual<TodoRow[]>([
      { id: 'todo-1', title: 'Buy oat milk', status: 'completed', version: 3 },
    ]);
    await untilWatched(b, 'todos', (report) =>
      (report.last as TodoRow[]).some((row) => row.status === 'completed'),
    );

    expect(await b.evaluate(() => (window as unknown as { marker: string }).marker)).toBe(
      'not reloaded',
    );
  });

  // With the default retries (3) and with none: without retries, nearly every command conflicts.
  it.each([
    { retries: undefined, label: 'default conflict retries' },
    { retries: 0, label: 'no conflict retries' },
  ])(
    'keeps versions contiguous when two pages race commands on one aggregate ($label)',
    async ({ retries }) => {
      const perPage = 15;
      const db = freshDatabase('race');
      const context = await newContext();
      const options = retries === undefined ? {} : { retries };
      const [a, b] = [await openApp(context, db, options), await openApp(context, db, options)];
      const id = 'todo-raced';
      await mustExecute(a, { id, command: 'add', input: { title: 'start' } });

      const renames = (page: string): CommandRequest[] =>
        range(1, perPage).map((index) => ({
          id,
          command: 'rename',
          input: { title: `${page}-${index}` },
        }));
      await call(a, 'arm', 'race', renames('A'));
      await call(b, 'arm', 'race', renames('B'));
      await call(a, 'fire');
      const fromA = await call(a, 'outcomes', 'race');
      const fromB = await call(b, 'outcomes', 'race');
      const outcomes = [...fromA, ...fromB];

      const landed = outcomes.filter((outcome) => outcome.ok);
      const conflicted = outcomes.filter(
        (outcome) => !outcome.ok && outcome.code === 'VERSION_CONFLICT',
      );
      // Every command either landed or was refused with a typed VERSION_CONFLICT.
      expect(
        outcomes.filter((outcome) => !outcome.ok && outcome.code !== 'VERSION_CONFLICT'),
      ).toEqual([]);
      expect(landed.length + conflicted.length).toBe(2 * perPage);
      expect(landed.length).toBeGreaterThanOrEqual(1);
      console.info(
        `race (${retries ?? 'default'} retries): ${landed.length} landed ` +
          `(A ${fromA.filter((outcome) => outcome.ok).length}, ` +
          `B ${fromB.filter((outcome) => outcome.ok).length}), ` +
          `${conflicted.length} VERSION_CONFLICT, of ${2 * perPage}`,
      );

      const total = 1 + landed.length;
      const history = await call(b, 'history', id);
      console.info(
        `race (${retries ?? 'default'} retries): commit order ` +
          history.map((event) => (event.data as { title: string }).title).join(' '),
      );
      expect(history.map((event) => event.version)).toEqual(range(1, total));
      expect(landed.flatMap((outcome) => outcome.eventVersions).sort((x, y) => x - y)).toEqual(
        range(2, total),
      );
      for (const outcome of landed) {
        expect(outcome.version).toBe(outcome.eventVersions[0]);
        const event = history.find((stored) => stored.version === outcome.version);
        expect(event?.commandId).toBe(outcome.commandId);
      }
      const stored = new Set(history.map((event) => event.commandId));
      expect(conflicted.filter((outcome) => stored.has(outcome.commandId))).toEqual([]);

      // State, projection row and pending commands agree with the log, seen from both pages.
      const last = history.at(-1) as EventSummary;
      const title = (last.data as { title: string }).title;
      for (const page of [a, b]) {
        expect(await call(page, 'load', id)).toEqual({
          state: { status: 'active', title },
          version: total,
        });
        expect(await call(page, 'todos')).toEqual<TodoRow[]>([
          { id, title, status: 'active', version: total },
        ]);
      }
      const pending = await call(a, 'pendingCommands');
      expect(pending.map((row) => row.commandId)).toEqual(history.map((event) => event.commandId));
    },
  );

  it('keeps one pending command per executed command across pages', async () => {
    const db = freshDatabase('pending-commands');
    const context = await newContext();
    const [a, b] = [await openApp(context, db), await openApp(context, db)];
    const clientIds = await Promise.all(
      [a, b].map((page) => page.evaluate(() => window.strataTest?.clientId)),
    );
    expect(clientIds[0]).toMatch(/^[0-9A-Za-z]{27}$/);
    expect(clientIds[1]).toBe(clientIds[0]);

    const executed: CommandOutcome[] = [];
    const run = async (page: Page, request: CommandRequest) => {
      const outcome = await execute(page, request);
      executed.push(outcome);
      return outcome;
    };
    // Sequential commands from both pages, including ones that store nothing.
    await run(a, { id: 'todo-1', command: 'add', input: { title: 'Buy milk' } });
    await run(b, { id: 'todo-2', command: 'add', input: { title: 'Walk the dog' } });
    await run(a, { id: 'todo-2', command: 'rename', input: { title: 'Walk the cat' } });
    await run(b, { id: 'todo-1', command: 'complete', input: {} });
    expect(await run(a, { id: 'todo-1', command: 'complete', input: {} })).toMatchObject({
      ok: true,
      eventVersions: [],
    });
    expect(await run(b, { id: 'todo-1', command: 'add', input: { title: 'again' } })).toMatchObject(
      { ok: false, code: 'DOMAIN_RULE_VIOLATED' },
    );
    expect(await run(b, { id: 'todo-1', command: 'rename', input: { title: '' } })).toMatchObject({
      ok: false,
      code: 'VALIDATION_FAILED',
    });
    // Then both pages at once, on different aggregates (no conflicts).
    const adds = (page: string): CommandRequest[] =>
      range(1, 10).map((index) => ({
        id: `todo-${page}-${index}`,
        command: 'add',
        input: { title: `${page} ${index}` },
      }));
    await call(a, 'arm', 'adds', adds('a'));
    await call(b, 'arm', 'adds', adds('b'));
    await call(b, 'fire');
    executed.push(...(await call(a, 'outcomes', 'adds')), ...(await call(b, 'outcomes', 'adds')));

    const stored = executed.filter((outcome) => outcome.ok && outcome.eventVersions.length > 0);
    expect(stored).toHaveLength(4 + 20);
    const [pendingA, pendingB, events] = [
      await call(a, 'pendingCommands'),
      await call(b, 'pendingCommands'),
      await call(a, 'allEvents'),
    ];
    expect(pendingB).toEqual(pendingA);
    // One entry per command that stored events, none for the others.
    expect(pendingA.map((row) => row.commandId).sort()).toEqual(
      stored.map((outcome) => outcome.commandId).sort(),
    );
    expect(new Set(pendingA.map((row) => row.seq)).size).toBe(pendingA.length);
    // The pending commands are in commit order, and its entries name exactly the stored events.
    expect(pendingA.flatMap((row) => row.eventIds)).toEqual(events.map((event) => event.id));
    for (const row of pendingA) {
      const own = events.filter((event) => row.eventIds.includes(event.id));
      expect(own.every((event) => event.commandId === row.commandId)).toBe(true);
      expect(own.every((event) => event.aggregateId === row.aggregateId)).toBe(true);
    }
    expect(events.every((event) => event.clientId === clientIds[0])).toBe(true);
  });
});
