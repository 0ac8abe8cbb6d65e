import { newKsuid, type ScopeRef } from '@strata/core';
import { startNodeServer } from '@strata/edge-server/node';
import { assignedTo, project, Task, taskScopes } from '@strata/example-todo';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@strata/tooling/chromium';
import { createTestDatabase, type Pool, testPostgres } from '@strata/tooling/postgres/neon';
import { bearerToken } from '@strata/tooling/sync/sync-client';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TEST_TENANT } from '../fixtures/sync-harness.ts';
import type { TaskRow } from '../fixtures/task-list.ts';
import type { ScopeSpec, StrataScopedApi, TaskCommandName } from './scoped-sync-app.ts';
import { serveTestApp, type TestAppServer } from './serve-test-app.ts';

// Scoped sync (issue 15) in real Chromium against the real edge server on a real Postgres: two
// users of one tenant, each on a device of their own (a browser context: its own IndexedDB),
// hold different scopes of the sample Task domain. What each device keeps is read with the raw
// IndexedDB API in the page (not through strata), and compared with the server's database,
// read with SQL. The page is `scoped-sync-app.ts`; each test gets its own server and database.

const SECRET = 'a-scoped-e2e-secret-of-enough-length';
/** Which projects each user may hold: the server's `project` rule reads it; tests change it. */
const grants = new Map<string, Set<string>>();

let browser: Browser;
let app: TestAppServer;
const contexts: BrowserContext[] = [];
const cleanups: (() => Promise<void>)[] = [];
const pageErrors: string[] = [];
const serverWarnings: string[] = [];

beforeAll(async () => {
  [browser, app] = await Promise.all([
    chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] }),
    serveTestApp({ entry: new URL('./scoped-sync-app.ts', import.meta.url) }),
  ]);
});

afterEach(async () => {
  // Pages first, so that no client is connected when its server stops.
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  grants.clear();
  expect(pageErrors.splice(0)).toEqual([]);
  expect(serverWarnings.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** An event as the server's database holds it. */
interface ServerEvent {
  readonly id: string;
  readonly aggregateId: string;
  readonly version: number;
  readonly type: string;
  /** Who wrote it (the server stamps the token's subject). */
  readonly userId: string;
}

/** A row of `strata_scope_rows`. */
interface ScopeRow {
  readonly scope: string;
  readonly eff: number;
  readonly position: number;
  readonly kind: 'event' | 'left';
  readonly aggregateId: string;
}

interface ScopedServer {
  readonly url: string;
  readonly db: Pool;
  /** Every event of the tenant, in tenant-position order (SQL on the server's database). */
  events(): Promise<ServerEvent[]>;
  /** Every row of one scope's log, in read order. */
  scopeRows(scope: ScopeRef): Promise<ScopeRow[]>;
  /** Each task's current scope keys, sorted, by task id. */
  memberships(): Promise<Record<string, string[]>>;
  /** A user (from Node, another device) runs a Task command through the server (v2 push). */
  command(user: string, aggregateId: string, name: TaskCommandName, input: object): Promise<void>;
}

/**
 * The edge server on a fresh Postgres database with the sample scopes: `project` held by the
 * users `grants` names, `assignedTo` by its own user, and nobody holding the whole tenant.
 * Heartbeats every 200 ms, so an open subscription re-checks its rules that often.
 */
async function startScopedServer(): Promise<ScopedServer> {
  const database = await createTestDatabase('strata_e2e_scoped');
  cleanups.push(() => database.drop());
  const server = await startNodeServer({
    port: 0,
    hostname: '127.0.0.1',
    databaseUrl: database.url,
    env: { NEON_WS_PROXY: `127.0.0.1:${testPostgres().wsProxyPort}` },
    jwtSecret: SECRET,
    aggregates: [Task],
    foldThroughEvolve: true,
    scopes: {
      definitions: [project, assignedTo],
      membership: [taskScopes],
      rules: {
        project: (principal, { projectId }) =>
          grants.get(principal.subject)?.has(projectId) === true,
        assignedTo: (principal, { userId }) => principal.subject === userId,
      },
    },
    heartbeatMs: 200,
    corsOrigins: [app.origin],
    handleSignals: false,
    shutdownGraceMs: 0,
    log: () => undefined,
    warn: (line) => serverWarnings.push(line),
  });
  cleanups.push(() => server.close());
  const db = database.createPool({ max: 2 });
  cleanups.push(() => db.end());
  return {
    url: server.url,
    db,
    async events() {
      const { rows } = await db.query(
        `SELECT id, aggregate_id, version, type, metadata->>'userId' AS user_id
           FROM strata_events WHERE tenant = $1 ORDER BY tenant_position`,
        [TEST_TENANT],
      );
      return rows.map((row) => ({
        id: row.id,
        aggregateId: row.aggregate_id,
        version: Number(row.version),
        type: row.type,
        userId: row.user_id,
      }));
    },
    async scopeRows(scope) {
      const { rows } = await db.query(
        `SELECT scope, eff, tenant_position, kind, aggregate_id FROM strata_scope_rows
          WHERE tenant = $1 AND scope = $2 ORDER BY eff, tenant_position`,
        [TEST_TENANT, scope.key],
      );
      return rows.map((row) => ({
        scope: row.scope,
        eff: Number(row.eff),
        position: Number(row.tenant_position),
        kind: row.kind,
        aggregateId: row.aggregate_id,
      }));
    },
    async memberships() {
      const { rows } = await db.query(
        `SELECT aggregate_id, scopes FROM strata_scope_memberships
          WHERE tenant = $1 AND aggregate_type = 'Task'`,
        [TEST_TENANT],
      );
      return Object.fromEntries(
        rows.map((row) => [row.aggregate_id, [...(row.scopes as string[])].sort()]),
      );
    },
    async command(user, aggregateId, name, input) {
      const response = await fetch(new URL('v2/push', server.url), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await bearerToken(SECRET, TEST_TENANT, user)}`,
        },
        body: JSON.stringify({
          protocol: 2,
          clientId: `${user}-node-device`,
          commits: [
            {
              commitId: newKsuid(),
              command: {
                aggregateType: 'Task',
                aggregateId,
                name,
                input,
                issuedAt: new Date().toISOString(),
              },
              events: [],
            },
          ],
        }),
      });
      const body = (await response.json()) as { results?: { status: string }[] };
      expect(response.status, JSON.stringify(body)).toBe(200);
      expect(body.results, JSON.stringify(body)).toEqual([
        expect.objectContaining({ status: 'accepted' }),
      ]);
    },
  };
}

const toSpec = (ref: ScopeRef) => ({ name: ref.name, params: ref.params }) as ScopeSpec;

let databases = 0;
/** An IndexedDB name no other test (or earlier run) has used. */
const freshDatabase = (label: string) =>
  `e2e-scoped-${label}-${Date.now().toString(36)}-${databases++}-${Math.random().toString(36).slice(2, 8)}`;

interface Device {
  readonly user: string;
  readonly context: BrowserContext;
  readonly page: Page;
}

/** A device of `user` (a browser context of its own) syncing `scopes` with `server`. */
async function openDevice(
  server: ScopedServer,
  user: string,
  scopes: readonly ScopeRef[],
): Promise<Device> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  const db = freshDatabase(user);
  page.on('pageerror', (error) => pageErrors.push(`${user}: ${error.message}`));
  await page.goto(
    app.url({
      db,
      server: server.url,
      user,
      token: await bearerToken(SECRET, TEST_TENANT, user),
      scopes: JSON.stringify(scopes.map(toSpec)),
    }),
  );
  await page.waitForFunction(
    () => window.strataScoped !== undefined || window.strataScopedError !== undefined,
    undefined,
    { timeout: 10_000 },
  );
  const error = await page.evaluate(() => window.strataScopedError);
  if (error !== undefined) throw new Error(`scoped sync app failed to start: ${error}`);
  return { user, context, page };
}

type Method = {
  [K in keyof StrataScopedApi]: StrataScopedApi[K] extends (...args: never[]) => unknown
    ? K
    : never;
}[keyof StrataScopedApi];

/** Calls a method of the page's `window.strataScoped`. */
function call<M extends Method>(
  device: Device,
  method: M,
  ...args: Parameters<StrataScopedApi[M]>
): Promise<Awaited<ReturnType<StrataScopedApi[M]>>> {
  return device.page.evaluate(
    ([name, values]) => {
      const api = window.strataScoped;
      if (api === undefined) throw new Error('window.strataScoped is not ready');
      return Reflect.apply(api[name], api, values) as unknown;
    },
    [method, args as unknown[]] as const,
  ) as Promise<Awaited<ReturnType<StrataScopedApi[M]>>>;
}

async function mustExecute(device: Device, id: string, command: TaskCommandName, input: object) {
  const outcome = await call(device, 'execute', id, command, input);
  expect(outcome, `${device.user}: ${command} ${id}`).toMatchObject({ ok: true });
}

const create = (device: Device, id: string, projectId: string, assignee: string) =>
  mustExecute(device, id, 'create', { projectId, title: `task ${id}`, assignee });

/** Polls generously: a change crosses page → server → Postgres → SSE → page. */
const poll = { timeout: 20_000, interval: 100 } as const;
/** Waits until `check` stops throwing. */
const eventually = (check: () => Promise<void>) =>
  expect.poll(() => check().then(() => true), poll).toBe(true);
/** Waits until the server stored `count` events: steps are sequenced, so positions are known. */
const serverHolds = (server: ScopedServer, count: number) =>
  eventually(async () => expect(await server.events()).toHaveLength(count));

// What a device's IndexedDB holds, read with the raw IndexedDB API in its page.
interface LocalEvent {
  readonly id: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly version: number;
  readonly type: string;
  readonly pending: 0 | 1;
}
interface LocalMember {
  readonly scope: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
}
/**
 * Its events, `pending` 1 only while a pending command lists the event: an acknowledgement
 * deletes the command row and leaves the event row as it is (issue 16).
 */
const localEvents = async (device: Device) => {
  const rows = (await call(device, 'readStore', 'events')) as LocalEvent[];
  const commands = (await call(device, 'readStore', 'commands')) as { eventIds: string[] }[];
  const listed = new Set(commands.flatMap((command) => command.eventIds));
  return rows.map((row) => ({ ...row, pending: row.pending === 1 && listed.has(row.id) ? 1 : 0 }));
};
const localTasks = async (device: Device) =>
  ((await call(device, 'readStore', 'tasks')) as TaskRow[]).sort((a, b) =>
    a.id.localeCompare(b.id),
  );
const localMembers = async (device: Device) =>
  ((await call(device, 'readStore', 'scopeMembers')) as LocalMember[])
    .map((row) => `${row.scope} ${row.aggregateType}/${row.aggregateId}`)
    .sort();
const member = (scope: ScopeRef, taskId: string) => `${scope.key} Task/${taskId}`;

/**
 * The device's IndexedDB holds exactly the server's events of `taskIds` (ids, versions, types),
 * all confirmed, and no other event; nothing pending.
 */
async function expectHoldsExactly(server: ScopedServer, device: Device, taskIds: string[]) {
  const upstream = (await server.events()).filter((event) => taskIds.includes(event.aggregateId));
  const local = await localEvents(device);
  const summary = (event: { id: string; aggregateId: string; version: number; type: string }) =>
    `${event.aggregateId}/${event.version} ${event.type} ${event.id}`;
  expect(local.map(summary).sort(), device.user).toEqual(upstream.map(summary).sort());
  expect(
    local.filter((event) => event.pending !== 0 || event.aggregateType !== 'Task'),
    device.user,
  ).toEqual([]);
  expect(await call(device, 'readStore', 'commands'), device.user).toEqual([]);
}

/** A raw request to the server as `user`, from Node (no strata client). */
async function rawRequest(
  server: ScopedServer,
  user: string | undefined,
  path: string,
  body?: unknown,
): Promise<{ status: number; contentType: string | null; body: Record<string, unknown> }> {
  const headers = new Headers();
  if (user !== undefined) {
    headers.set('authorization', `Bearer ${await bearerToken(SECRET, TEST_TENANT, user)}`);
  }
  if (body !== undefined) headers.set('content-type', 'application/json');
  const controller = new AbortController();
  const response = await fetch(new URL(path, server.url), {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    signal: controller.signal,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const contentType = response.headers.get('content-type');
  if (contentType?.startsWith('text/event-stream') === true) {
    // A stream that opened: report it without reading it forever.
    controller.abort();
    return { status: response.status, contentType, body: {} };
  }
  return { status: response.status, contentType, body: (await response.json()) as never };
}

/** A pull of `scopes` from the start, as the v2 protocol asks for it. */
const pullBody = (...scopes: ScopeRef[]) => ({
  scopes: scopes.map((scope) => ({ scope: scope.key })),
  limit: 100,
});

describe('scoped sync in Chromium through the edge server on Postgres', () => {
  it('two users with different scopes each hold exactly their scopes’ tasks; a scope one may not hold is 403', async () => {
    const server = await startScopedServer();
    grants.set('ann', new Set(['pA']));
    grants.set('bob', new Set(['pB']));
    grants.set('carol', new Set(['pC']));
    const [annOwn, pA] = [assignedTo({ userId: 'ann' }), project({ projectId: 'pA' })];
    const [bobOwn, pB] = [assignedTo({ userId: 'bob' }), project({ projectId: 'pB' })];
    const annScopes = [annOwn, pA];
    const bobScopes = [bobOwn, pB];
    const ann = await openDevice(server, 'ann', annScopes);
    const bob = await openDevice(server, 'bob', bobScopes);

    // ann: t1 (her own, in her project), t2 (carol's, in her project), t4 (hers, in bob's
    // project: both hold it). bob: t3 (his, in his project). carol, from Node: t5, in a project
    // neither holds, assigned to neither.
    await create(ann, 't1', 'pA', 'ann');
    await mustExecute(ann, 't1', 'rename', { title: 't1, renamed by ann' });
    await create(ann, 't2', 'pA', 'carol');
    await create(ann, 't4', 'pB', 'ann');
    await serverHolds(server, 4);
    await create(bob, 't3', 'pB', 'bob');
    await serverHolds(server, 5);
    await server.command('carol', 't5', 'create', {
      projectId: 'pC',
      title: 'task t5',
      assignee: 'carol',
    });
    await server.command('carol', 't5', 'rename', { title: 't5, renamed by carol' });
    // bob receives t4 through his project, and renames it: the rename reaches ann too.
    await eventually(async () =>
      expect((await localTasks(bob)).map((row) => row.id)).toContain('t4'),
    );
    await mustExecute(bob, 't4', 'rename', { title: 't4, renamed by bob' });
    await serverHolds(server, 8);
    await eventually(() => expectHoldsExactly(server, ann, ['t1', 't2', 't4']));
    await eventually(() => expectHoldsExactly(server, bob, ['t3', 't4']));
    await eventually(async () =>
      expect((await localTasks(ann)).find((row) => row.id === 't4')?.title).toBe(
        't4, renamed by bob',
      ),
    );

    // The projection rows, likewise: exactly the scopes' tasks, in their latest state.
    expect(await localTasks(ann)).toEqual([
      { id: 't1', projectId: 'pA', title: 't1, renamed by ann', assignee: 'ann' },
      { id: 't2', projectId: 'pA', title: 'task t2', assignee: 'carol' },
      { id: 't4', projectId: 'pB', title: 't4, renamed by bob', assignee: 'ann' },
    ]);
    expect(await localTasks(bob)).toEqual([
      { id: 't3', projectId: 'pB', title: 'task t3', assignee: 'bob' },
      { id: 't4', projectId: 'pB', title: 't4, renamed by bob', assignee: 'ann' },
    ]);
    // Which held scope holds which task, on each device.
    expect(await localMembers(ann)).toEqual(
      [member(annOwn, 't1'), member(pA, 't1'), member(pA, 't2'), member(annOwn, 't4')].sort(),
    );
    expect(await localMembers(bob)).toEqual(
      [member(bobOwn, 't3'), member(pB, 't3'), member(pB, 't4')].sort(),
    );
    // No event of another scope anywhere in either database: not in a snapshot, a pending
    // command or a rejected one either.
    const others = (await server.events())
      .filter((event) => event.aggregateId === 't5')
      .map((event) => event.id);
    expect(others).toHaveLength(2);
    for (const device of [ann, bob]) {
      const stores = await call(device, 'storeNames');
      expect(stores).toEqual(
        expect.arrayContaining(['events', 'tasks', 'scopeMembers', 'snapshots', 'rejected']),
      );
      for (const store of stores) {
        const dump = JSON.stringify(await call(device, 'readStore', store));
        for (const id of others) expect(dump, `${device.user}'s ${store}`).not.toContain(id);
        expect(dump, `${device.user}'s ${store}`).not.toContain('t5, renamed by carol');
      }
      expect(await call(device, 'rejected')).toEqual([]);
      const status = await call(device, 'status');
      expect(status?.scopes?.refused).toEqual([]);
      expect(status?.lastError).toBeUndefined();
    }
    expect([...((await call(ann, 'status'))?.scopes?.held ?? [])].sort()).toEqual(
      annScopes.map((scope) => scope.key).sort(),
    );

    // A raw client asking, as bob, for a scope he may not hold: 403 problem+json naming it,
    // whatever else the request asks for; nothing read.
    for (const [body, refused] of [
      [pullBody(pA), [pA.key]],
      [pullBody(bobOwn, pA), [pA.key]],
      [pullBody(annOwn, pB, pA), [annOwn.key, pA.key].sort()],
      [{ scopes: [{ scope: 'tenant' }], limit: 100 }, ['tenant']],
    ] as const) {
      const response = await rawRequest(server, 'bob', 'v2/pull', body);
      expect(response.status, JSON.stringify(body)).toBe(403);
      expect(response.contentType).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({ code: 'FORBIDDEN', status: 403 });
      expect([...(response.body.scopes as string[])].sort()).toEqual(refused);
      expect(JSON.stringify(response.body)).not.toContain('task t');
    }
    const subscribe = await rawRequest(
      server,
      'bob',
      `v2/subscribe?${new URLSearchParams([
        ['scope', bobOwn.key],
        ['scope', pA.key],
      ])}`,
    );
    expect(subscribe).toMatchObject({
      status: 403,
      body: { code: 'FORBIDDEN', scopes: [pA.key] },
    });
    expect(subscribe.contentType).toMatch(/^application\/problem\+json/);
    // The whole tenant is nobody's (no `tenant` rule): the v1 pull is refused too.
    const v1 = await rawRequest(server, 'bob', 'v1/pull');
    expect(v1).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    expect(v1.contentType).toMatch(/^application\/problem\+json/);
    // Without a token: 401, before any scope is looked at.
    expect(await rawRequest(server, undefined, 'v2/pull', pullBody(pA))).toMatchObject({
      status: 401,
    });
    // A forged scope name or bad params: 400, not a read.
    for (const scope of ['secret:{"projectId":"pA"}', 'project:{"id":"pA"}', 'project:nope']) {
      const response = await rawRequest(server, 'bob', 'v2/pull', {
        scopes: [{ scope }],
        limit: 100,
      });
      expect(response.status, scope).toBe(400);
      expect(response.body, scope).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    // The control: bob's own scopes read, as a raw client, exactly what his device holds.
    const own = await rawRequest(server, 'bob', 'v2/pull', pullBody(bobOwn, pB));
    expect(own.status).toBe(200);
    const items = own.body.items as { kind: string; event?: { id: string } }[];
    expect(items.every((item) => item.kind === 'event')).toBe(true);
    expect(items.map((item) => item.event?.id).sort()).toEqual(
      (await localEvents(bob)).map((event) => event.id).sort(),
    );

    // The server's database: every event stored once, stamped with its writer; each scope's log
    // and each task's scopes as the membership fold says.
    expect(
      (await server.events()).map((e) => `${e.aggregateId}/${e.version} ${e.type} ${e.userId}`),
    ).toEqual([
      't1/1 TaskCreated ann',
      't1/2 TaskRenamed ann',
      't2/1 TaskCreated ann',
      't4/1 TaskCreated ann',
      't3/1 TaskCreated bob',
      't5/1 TaskCreated carol',
      't5/2 TaskRenamed carol',
      't4/2 TaskRenamed bob',
    ]);
    const ids = async (scope: ScopeRef) =>
      (await server.scopeRows(scope)).map((row) => `${row.kind} ${row.aggregateId}`);
    expect(await ids(pA)).toEqual(['event t1', 'event t1', 'event t2']);
    expect(await ids(pB)).toEqual(['event t4', 'event t3', 'event t4']);
    expect(await ids(annOwn)).toEqual(['event t1', 'event t1', 'event t4', 'event t4']);
    expect(await ids(bobOwn)).toEqual(['event t3']);
    expect(await server.memberships()).toEqual({
      t1: [annOwn.key, pA.key].sort(),
      t2: [assignedTo({ userId: 'carol' }).key, pA.key].sort(),
      t3: [bobOwn.key, pB.key].sort(),
      t4: [annOwn.key, pB.key].sort(),
      t5: [assignedTo({ userId: 'carol' }).key, project({ projectId: 'pC' }).key].sort(),
    });
  });

  it('a task moved between scopes by an event leaves one device and arrives whole on the other', async () => {
    const server = await startScopedServer();
    grants.set('ann', new Set(['pA']));
    grants.set('bob', new Set(['pB']));
    const annOwn = assignedTo({ userId: 'ann' });
    const bobOwn = assignedTo({ userId: 'bob' });
    const [pA, pB] = [project({ projectId: 'pA' }), project({ projectId: 'pB' })];
    const ann = await openDevice(server, 'ann', [annOwn, pA]);
    const bob = await openDevice(server, 'bob', [bobOwn, pB]);

    // m1: ann's, in a project neither holds; m2: carol's, in bob's project.
    await create(ann, 'm1', 'pZ', 'ann');
    await mustExecute(ann, 'm1', 'rename', { title: 'm1, second title' });
    await serverHolds(server, 2);
    await create(bob, 'm2', 'pB', 'carol');
    await mustExecute(bob, 'm2', 'rename', { title: 'm2, second title' });
    await serverHolds(server, 4);
    await eventually(() => expectHoldsExactly(server, ann, ['m1']));
    await eventually(() => expectHoldsExactly(server, bob, ['m2']));

    // ann gives m1 to bob (it leaves assignedTo(ann), joins assignedTo(bob)); bob moves m2 to
    // ann's project (it leaves project(pB), joins project(pA)). Both pages stay open: the
    // changes arrive live.
    await mustExecute(ann, 'm1', 'reassign', { assignee: 'bob' });
    await serverHolds(server, 5);
    await mustExecute(bob, 'm2', 'move', { projectId: 'pA' });

    await eventually(() => expectHoldsExactly(server, ann, ['m2']));
    await eventually(() => expectHoldsExactly(server, bob, ['m1']));
    // Whole: every event of each task's history, from its creation.
    expect((await localEvents(bob)).map((e) => `${e.version} ${e.type}`).sort()).toEqual([
      '1 TaskCreated',
      '2 TaskRenamed',
      '3 TaskReassigned',
    ]);
    expect((await localEvents(ann)).map((e) => `${e.version} ${e.type}`).sort()).toEqual([
      '1 TaskCreated',
      '2 TaskRenamed',
      '3 TaskMoved',
    ]);
    expect(await localTasks(ann)).toEqual([
      { id: 'm2', projectId: 'pA', title: 'm2, second title', assignee: 'carol' },
    ]);
    expect(await localTasks(bob)).toEqual([
      { id: 'm1', projectId: 'pZ', title: 'm1, second title', assignee: 'bob' },
    ]);
    expect(await localMembers(ann)).toEqual([member(pA, 'm2')]);
    expect(await localMembers(bob)).toEqual([member(bobOwn, 'm1')]);
    for (const [device, gone] of [
      [ann, 'm1'],
      [bob, 'm2'],
    ] as const) {
      // Nothing of the task that left: no event, row, snapshot or membership.
      for (const store of await call(device, 'storeNames')) {
        if (store === 'syncState') continue;
        const dump = JSON.stringify(await call(device, 'readStore', store));
        expect(dump, `${device.user}'s ${store}`).not.toContain(`"${gone}"`);
      }
      // Leaving is not a rejection: the device's own command went through.
      expect(await call(device, 'rejected')).toEqual([]);
      expect(await call(device, 'readStore', 'rejected')).toEqual([]);
    }

    // The server's database: the moves are events like any other; each left scope ends with a
    // `left` row, each joined one got the task's whole history at the position it joined.
    expect(
      (await server.events()).map((e) => `${e.aggregateId}/${e.version} ${e.type} ${e.userId}`),
    ).toEqual([
      'm1/1 TaskCreated ann',
      'm1/2 TaskRenamed ann',
      'm2/1 TaskCreated bob',
      'm2/2 TaskRenamed bob',
      'm1/3 TaskReassigned ann',
      'm2/3 TaskMoved bob',
    ]);
    const rows = async (scope: ScopeRef) =>
      (await server.scopeRows(scope)).map(
        (row) => `${row.kind} ${row.aggregateId} ${row.eff}/${row.position}`,
      );
    expect(await rows(annOwn)).toEqual(['event m1 1/1', 'event m1 2/2', 'left m1 5/5']);
    expect(await rows(bobOwn)).toEqual(['event m1 5/1', 'event m1 5/2', 'event m1 5/5']);
    expect(await rows(pB)).toEqual(['event m2 3/3', 'event m2 4/4', 'left m2 6/6']);
    expect(await rows(pA)).toEqual(['event m2 6/3', 'event m2 6/4', 'event m2 6/6']);
    expect(await server.memberships()).toEqual({
      m1: [bobOwn.key, project({ projectId: 'pZ' }).key].sort(),
      m2: [assignedTo({ userId: 'carol' }).key, pA.key].sort(),
    });
  });

  it('a revoked scope: its tasks leave the device, the pending command on them is rejected FORBIDDEN and shown', async () => {
    const server = await startScopedServer();
    grants.set('ann', new Set(['pA']));
    grants.set('bob', new Set(['pA']));
    const annOwn = assignedTo({ userId: 'ann' });
    const bobOwn = assignedTo({ userId: 'bob' });
    const pA = project({ projectId: 'pA' });
    const ann = await openDevice(server, 'ann', [annOwn, pA]);
    const bob = await openDevice(server, 'bob', [bobOwn, pA]);

    // r1, r2: bob's tasks in pA (ann holds them through the project alone); o1: ann's own in pA.
    await create(bob, 'r1', 'pA', 'bob');
    await create(bob, 'r2', 'pA', 'bob');
    await serverHolds(server, 2);
    await create(ann, 'o1', 'pA', 'ann');
    await eventually(() => expectHoldsExactly(server, ann, ['o1', 'r1', 'r2']));
    await eventually(() => expectHoldsExactly(server, bob, ['o1', 'r1', 'r2']));

    // ann goes offline and renames r1 and her own o1; meanwhile pA is revoked for her.
    await ann.context.setOffline(true);
    await expect.poll(async () => (await call(ann, 'status'))?.connected, poll).toBe(false);
    await mustExecute(ann, 'r1', 'rename', { title: 'r1, renamed offline' });
    await mustExecute(ann, 'o1', 'rename', { title: 'o1, renamed offline' });
    expect(await call(ann, 'readStore', 'commands')).toHaveLength(2);
    expect((await localEvents(ann)).filter((event) => event.pending === 1)).toHaveLength(2);
    grants.set('ann', new Set());

    // Back online: r1 and r2 leave her device, the rename of r1 is rejected FORBIDDEN (shown
    // in sync.rejected, kept in IndexedDB), the rename of her own task goes through.
    await ann.context.setOffline(false);
    await eventually(() => expectHoldsExactly(server, ann, ['o1']));
    await eventually(async () =>
      expect(
        (await call(ann, 'rejected')).map((row) => `${row.aggregateId} ${row.command} ${row.code}`),
      ).toEqual(['r1 rename FORBIDDEN']),
    );
    const rejectedRows = (await call(ann, 'readStore', 'rejected')) as {
      aggregateId: string;
      command: string;
      code: string;
      input: unknown;
    }[];
    expect(rejectedRows).toEqual([
      expect.objectContaining({
        aggregateId: 'r1',
        command: 'rename',
        code: 'FORBIDDEN',
        input: { title: 'r1, renamed offline' },
      }),
    ]);
    expect(await localTasks(ann)).toEqual([
      { id: 'o1', projectId: 'pA', title: 'o1, renamed offline', assignee: 'ann' },
    ]);
    expect(await localMembers(ann)).toEqual([member(annOwn, 'o1')]);
    expect(await call(ann, 'readStore', 'snapshots')).toEqual([]);
    await eventually(async () =>
      expect((await call(ann, 'status'))?.scopes).toMatchObject({
        held: [annOwn.key],
        refused: [pA.key],
      }),
    );
    const events = await localEvents(ann);
    expect(events.map((event) => event.aggregateId)).toEqual(['o1', 'o1']);

    // bob still holds pA: he keeps r1 and r2, and receives ann's rename of o1, not of r1.
    await eventually(() => expectHoldsExactly(server, bob, ['o1', 'r1', 'r2']));
    await eventually(async () =>
      expect(await localTasks(bob)).toEqual([
        { id: 'o1', projectId: 'pA', title: 'o1, renamed offline', assignee: 'ann' },
        { id: 'r1', projectId: 'pA', title: 'task r1', assignee: 'bob' },
        { id: 'r2', projectId: 'pA', title: 'task r2', assignee: 'bob' },
      ]),
    );
    expect(await call(bob, 'rejected')).toEqual([]);

    // The server never stored the rename of r1.
    expect(
      (await server.events()).map((e) => `${e.aggregateId}/${e.version} ${e.type} ${e.userId}`),
    ).toEqual([
      'r1/1 TaskCreated bob',
      'r2/1 TaskCreated bob',
      'o1/1 TaskCreated ann',
      'o1/2 TaskRenamed ann',
    ]);
    const { rows } = await server.db.query(
      `SELECT count(*)::int AS n FROM strata_events WHERE data::text LIKE '%renamed offline%'
          AND aggregate_id = 'r1'`,
    );
    expect(rows[0]?.n).toBe(0);
    // And ann, as a raw client now, may not read pA.
    const response = await rawRequest(server, 'ann', 'v2/pull', pullBody(annOwn, pA));
    expect(response).toMatchObject({ status: 403, body: { code: 'FORBIDDEN', scopes: [pA.key] } });
    expect(response.contentType).toMatch(/^application\/problem\+json/);

    // Revoked while online: bob's open subscription re-checks its rules (each heartbeat) and
    // ends; he keeps his own tasks and drops ann's o1, which only pA gave him.
    grants.set('bob', new Set());
    await eventually(() => expectHoldsExactly(server, bob, ['r1', 'r2']));
    expect((await localTasks(bob)).map((row) => row.id)).toEqual(['r1', 'r2']);
    expect(await localMembers(bob)).toEqual([member(bobOwn, 'r1'), member(bobOwn, 'r2')]);
    await eventually(async () =>
      expect((await call(bob, 'status'))?.scopes).toMatchObject({
        held: [bobOwn.key],
        refused: [pA.key],
      }),
    );
    expect(await call(bob, 'rejected')).toEqual([]);
    expect(await server.events()).toHaveLength(4);
  });

  it('site data cleared under a scoped device: it asks for its scopes again and ends with exactly their tasks', async () => {
    const server = await startScopedServer();
    grants.set('bob', new Set(['pA']));
    grants.set('ann', new Set(['pA', 'pB']));
    const bobOwn = assignedTo({ userId: 'bob' });
    const pA = project({ projectId: 'pA' });
    const bob = await openDevice(server, 'bob', [bobOwn, pA]);
    await create(bob, 'b1', 'pA', 'bob');
    await serverHolds(server, 1);
    await server.command('ann', 'a1', 'create', { projectId: 'pA', title: 'a1', assignee: 'ann' });
    await server.command('ann', 'x1', 'create', { projectId: 'pB', title: 'x1', assignee: 'ann' });
    await eventually(() => expectHoldsExactly(server, bob, ['a1', 'b1']));

    const cdp = await bob.context.newCDPSession(bob.page);
    await cdp.send('Storage.clearDataForOrigin', { origin: app.origin, storageTypes: 'indexeddb' });
    // Written while the device reads its scopes again from the start.
    await server.command('ann', 'a2', 'create', { projectId: 'pA', title: 'a2', assignee: 'bob' });

    // Without its scope rows the device re-bootstrapped into no scope and held nothing.
    await eventually(() => expectHoldsExactly(server, bob, ['a1', 'a2', 'b1']));
    await eventually(async () =>
      expect((await call(bob, 'status'))?.scopes).toEqual({
        held: [bobOwn.key, pA.key].sort(),
        backfilling: [],
        refused: [],
      }),
    );
    expect((await localTasks(bob)).map((row) => row.id)).toEqual(['a1', 'a2', 'b1']);
    expect(await localMembers(bob)).toEqual(
      [
        member(bobOwn, 'a2'),
        member(bobOwn, 'b1'),
        member(pA, 'a1'),
        member(pA, 'a2'),
        member(pA, 'b1'),
      ].sort(),
    );
    const state = (await call(bob, 'readStore', 'syncState')) as { key: string; value: unknown }[];
    expect(state.find((row) => row.key === 'clientId')?.value).toBe(
      await bob.page.evaluate(() => window.strataScoped?.clientId),
    );
    expect((await call(bob, 'status'))?.rebootstrap).toBeUndefined();
  });
});
