import { newKsuid } from '@strata/core';
import { startNodeServer } from '@strata/edge-server/node';
import { folder, Note, noteScopes, SNAPSHOT_EVERY } from '@strata/example-todo';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@strata/tooling/chromium';
import { createTestDatabase, type Pool, testPostgres } from '@strata/tooling/postgres/neon';
import { bearerToken } from '@strata/tooling/sync/sync-client';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NoteRow } from '../fixtures/note-list.ts';
import { TEST_TENANT } from '../fixtures/sync-harness.ts';
import { serveTestApp, type TestAppServer } from './serve-test-app.ts';
import type { NoteCommandName, StrataSnapshotApi } from './snapshot-bootstrap-app.ts';

// Snapshot bootstrap in real Chromium against the real edge server on a real Postgres: a writer
// (from Node, another device) edits a note past the server's snapshot; a fresh device of another
// user holding the note's folder starts it from that snapshot (its base) instead of its whole
// history, loads the older history on demand, survives a reload without downloading again, and
// keeps writing on top. What the device keeps is read with the raw IndexedDB API in the page
// (not through strata), and compared with the server's database, read with SQL. The page is
// `snapshot-bootstrap-app.ts`; each test gets its own server and database.

const SECRET = 'a-snapshot-e2e-secret-of-enough-length';

let browser: Browser;
let app: TestAppServer;
const contexts: BrowserContext[] = [];
const cleanups: (() => Promise<void>)[] = [];
const pageErrors: string[] = [];
const serverWarnings: string[] = [];

beforeAll(async () => {
  [browser, app] = await Promise.all([
    chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] }),
    serveTestApp({ entry: new URL('./snapshot-bootstrap-app.ts', import.meta.url) }),
  ]);
});

afterEach(async () => {
  // Pages first, so that no client is connected when its server stops.
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
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
}

interface NoteServer {
  readonly url: string;
  readonly db: Pool;
  /** The server's events of one note, in version order (SQL on the server's database). */
  events(noteId: string): Promise<ServerEvent[]>;
  /** The version of the note's snapshot the server holds (one row per aggregate), if any. */
  snapshotVersion(noteId: string): Promise<number | undefined>;
  /** A user (from Node, another device) runs a Note command through the server (v2 push). */
  command(user: string, noteId: string, name: NoteCommandName, input: object): Promise<void>;
}

/**
 * The edge server on a fresh Postgres database with the sample Note (which snapshots every
 * `SNAPSHOT_EVERY` versions as the server decides its commands) and its `folder` scope, which
 * every user may hold. No tenant rule: nobody reads the whole tenant.
 */
async function startNoteServer(): Promise<NoteServer> {
  const database = await createTestDatabase('strata_e2e_snapshot');
  cleanups.push(() => database.drop());
  const server = await startNodeServer({
    port: 0,
    hostname: '127.0.0.1',
    databaseUrl: database.url,
    env: { NEON_WS_PROXY: `127.0.0.1:${testPostgres().wsProxyPort}` },
    jwtSecret: SECRET,
    aggregates: [Note],
    foldThroughEvolve: true,
    scopes: {
      definitions: [folder],
      membership: [noteScopes],
      rules: { folder: () => true },
    },
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
    async events(noteId) {
      const { rows } = await db.query(
        `SELECT id, aggregate_id, version, type FROM strata_events
          WHERE tenant = $1 AND aggregate_type = 'Note' AND aggregate_id = $2 ORDER BY version`,
        [TEST_TENANT, noteId],
      );
      return rows.map((row) => ({
        id: row.id,
        aggregateId: row.aggregate_id,
        version: Number(row.version),
        type: row.type,
      }));
    },
    async snapshotVersion(noteId) {
      const { rows } = await db.query(
        `SELECT version FROM strata_snapshots
          WHERE tenant = $1 AND aggregate_type = 'Note' AND aggregate_id = $2`,
        [TEST_TENANT, noteId],
      );
      return rows[0] === undefined ? undefined : Number(rows[0].version);
    },
    async command(user, noteId, name, input) {
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
                aggregateType: 'Note',
                aggregateId: noteId,
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

/**
 * `writer`, from Node, fills `folderId`: a long note edited `edits` times (version edits + 1)
 * and a short note edited once (version 2). The server decides each command, so it writes the
 * snapshots its policy asks for.
 */
async function writeFolder(server: NoteServer, writer: string, folderId: string, edits: number) {
  const [long, short] = [`long-${folderId}`, `short-${folderId}`];
  await server.command(writer, long, 'create', { folderId, text: 'v1' });
  for (let i = 1; i <= edits; i++) {
    await server.command(writer, long, 'edit', { text: `edit ${i}` });
  }
  await server.command(writer, short, 'create', { folderId, text: 'short' });
  await server.command(writer, short, 'edit', { text: 'short, edited' });
  return { long, short };
}

let databases = 0;
/** An IndexedDB name no other test (or earlier run) has used. */
const freshDatabase = (label: string) =>
  `e2e-snapshot-${label}-${Date.now().toString(36)}-${databases++}-${Math.random().toString(36).slice(2, 8)}`;

/** A `POST /v2/pull` the page sent, with what the server answered. */
interface Pull {
  readonly request: {
    readonly scopes: { scope: string; after?: string; bootstrap?: boolean }[];
    readonly snapshots?: Record<string, string>;
  };
  /** The kind (and, for snapshots, `aggregateId@version`) of each item answered. */
  readonly items: string[];
}

interface Device {
  readonly user: string;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Every pull the page made so far, across reloads, in order (see `pulls`). */
  readonly pulls: Promise<Pull>[];
  /** Every `GET /v1/streams/...` the page made (`loadHistory` reads them), as path?query. */
  readonly streamReads: string[];
}

/** A device of `user` (a browser context of its own) syncing `folders` with `server`. */
async function openDevice(
  server: NoteServer,
  user: string,
  folders: readonly string[],
  { bootstrap = true }: { readonly bootstrap?: boolean } = {},
): Promise<Device> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${user}: ${error.message}`));
  const device: Device = { user, context, page, pulls: [], streamReads: [] };
  // What crosses the wire, as the server saw it: whether the device asked for snapshots, and
  // whether it downloaded anything again after a reload.
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (!url.href.startsWith(server.url)) return;
    if (url.pathname.endsWith('/v2/pull') && request.method() === 'POST') {
      const body = request.postDataJSON() as Pull['request'];
      device.pulls.push(
        request
          .response()
          .then(async (response) => {
            const answer = (await response?.json()) as {
              items: { kind: string; aggregateId?: string; version?: number }[];
            };
            return answer.items.map((item) =>
              item.kind === 'snapshot' ? `snapshot ${item.aggregateId}@${item.version}` : item.kind,
            );
          })
          // A pull cut by a reload has no answer to read: say so, so a test sees it.
          .catch((error: unknown) => [`no answer: ${String(error)}`])
          .then((items) => ({ request: body, items })),
      );
    } else if (url.pathname.includes('/v1/streams/')) {
      device.streamReads.push(`${url.pathname}${url.search}`);
    }
  });
  await page.goto(
    app.url({
      db: freshDatabase(user),
      server: server.url,
      user,
      token: await bearerToken(SECRET, TEST_TENANT, user),
      folders: JSON.stringify(folders),
      bootstrap: bootstrap ? undefined : 'false',
    }),
  );
  await started(device);
  return device;
}

/** Waits for the page's app to start (after a navigation or a reload). */
async function started(device: Device): Promise<void> {
  await device.page.waitForFunction(
    () => window.strataSnapshot !== undefined || window.strataSnapshotError !== undefined,
    undefined,
    { timeout: 10_000 },
  );
  const error = await device.page.evaluate(() => window.strataSnapshotError);
  if (error !== undefined) throw new Error(`snapshot bootstrap app failed to start: ${error}`);
}

type Method = {
  [K in keyof StrataSnapshotApi]: StrataSnapshotApi[K] extends (...args: never[]) => unknown
    ? K
    : never;
}[keyof StrataSnapshotApi];

/** How long a call into the page may take before the test says which one hung. */
const CALL_LIMIT_MS = 15_000;

/**
 * Calls a method of the page's `window.strataSnapshot`. `page.evaluate` has no timeout: a call
 * that never settles (a `whenSynced` that is never answered) fails with its name and the sync
 * status instead of the test's bare timeout.
 */
function call<M extends Method>(
  device: Device,
  method: M,
  ...args: Parameters<StrataSnapshotApi[M]>
): Promise<Awaited<ReturnType<StrataSnapshotApi[M]>>> {
  const settled = device.page.evaluate(
    ([name, values]) => {
      const api = window.strataSnapshot;
      if (api === undefined) throw new Error('window.strataSnapshot is not ready');
      return Reflect.apply(api[name], api, values) as unknown;
    },
    [method, args as unknown[]] as const,
  ) as Promise<Awaited<ReturnType<StrataSnapshotApi[M]>>>;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(async () => {
      const status = await device.page
        .evaluate(() => JSON.stringify(window.strataSnapshot?.status()))
        .catch(String);
      reject(new Error(`${device.user}: ${method} did not settle; sync status ${status}`));
    }, CALL_LIMIT_MS);
  });
  return Promise.race([settled, hung]).finally(() => clearTimeout(timer));
}

/**
 * Every pull the page made, answered. A pull whose answer never came (cut by a reload) shows as
 * such in `items`, so the assertions on it fail with that instead of waiting.
 */
const pulls = (device: Device) =>
  Promise.all(
    device.pulls.map((pull, i) =>
      Promise.race([
        pull,
        new Promise<Pull>((resolve) =>
          setTimeout(
            () => resolve({ request: { scopes: [] }, items: [`pull ${i}: no answer`] }),
            5000,
          ),
        ),
      ]),
    ),
  );

/** Polls generously: a change crosses page → server → Postgres → SSE → page. */
const poll = { timeout: 20_000, interval: 100 } as const;
/** Waits until `check` stops throwing. */
const eventually = (check: () => Promise<void>) =>
  expect.poll(() => check().then(() => true), poll).toBe(true);

// What a device's IndexedDB holds, read with the raw IndexedDB API in its page.
interface LocalEvent {
  readonly id: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly version: number;
  readonly type: string;
  readonly pending: 0 | 1;
}
interface LocalBase {
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly version: number;
  readonly state: unknown;
  readonly fingerprint: string;
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
const localBases = async (device: Device) =>
  (await call(device, 'readStore', 'bases')) as LocalBase[];
const localNotes = async (device: Device) =>
  ((await call(device, 'readStore', 'notes')) as NoteRow[]).sort((a, b) =>
    a.id.localeCompare(b.id),
  );
/** The note's events the device holds, as `version id`, in version order; all confirmed. */
async function localEventsOf(device: Device, noteId: string): Promise<string[]> {
  const rows = (await localEvents(device)).filter(
    (row) => row.aggregateType === 'Note' && row.aggregateId === noteId,
  );
  expect(
    rows.filter((row) => row.pending !== 0),
    device.user,
  ).toEqual([]);
  return rows.sort((a, b) => a.version - b.version).map((row) => `${row.version} ${row.id}`);
}
/** The server's events of the note from `fromVersion` on, as `localEventsOf` lists them. */
async function serverEventsOf(server: NoteServer, noteId: string, fromVersion = 1) {
  return (await server.events(noteId))
    .filter((event) => event.version >= fromVersion)
    .map((event) => `${event.version} ${event.id}`);
}
const versionsOf = (summaries: string[]) => summaries.map((line) => Number(line.split(' ')[0]));
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('snapshot bootstrap in Chromium through the edge server on Postgres', () => {
  it('a fresh device starts a long note from the server snapshot, loads older history on demand, survives a reload and writes on top', async () => {
    const server = await startNoteServer();
    const folderId = 'f1';
    const { long, short } = await writeFolder(server, 'ann', folderId, 11); // long at version 12
    expect(SNAPSHOT_EVERY).toBe(5);
    expect(await server.snapshotVersion(long)).toBe(10); // the policy's last multiple of 5 ≤ 12
    expect(await server.snapshotVersion(short)).toBeUndefined();
    expect(versionsOf(await serverEventsOf(server, long))).toEqual(range(1, 12));

    const bob = await openDevice(server, 'bob', [folderId]);
    await call(bob, 'whenSynced');

    // From the snapshot: the event at its version and those after it, with the server's ids;
    // none before. The short note has no snapshot: all of it.
    expect(await localEventsOf(bob, long)).toEqual(await serverEventsOf(server, long, 10));
    expect(versionsOf(await localEventsOf(bob, long))).toEqual([10, 11, 12]);
    expect(await localEventsOf(bob, short)).toEqual(await serverEventsOf(server, short));
    expect(versionsOf(await localEventsOf(bob, short))).toEqual([1, 2]);
    expect(await localEvents(bob)).toHaveLength(5);
    // The snapshot is the long note's base: its state at version 10 (nine edits).
    expect(await localBases(bob)).toEqual([
      expect.objectContaining({
        aggregateType: 'Note',
        aggregateId: long,
        version: 10,
        state: { folderId, text: 'edit 9', edits: 9 },
      }),
    ]);
    // The projection started from the base's state (`fromState`), then applied 11 and 12.
    const rows: NoteRow[] = [
      { id: long, folderId, text: 'edit 11', edits: 11 },
      { id: short, folderId, text: 'short, edited', edits: 1 },
    ];
    expect(await localNotes(bob)).toEqual(rows);
    expect(await call(bob, 'load', long)).toEqual({
      state: { folderId, text: 'edit 11', edits: 11 },
      version: 12,
    });
    // It asked for snapshots while back-filling, and the server sent the long note's instead of
    // versions 1..9.
    const firstPulls = await pulls(bob);
    expect(firstPulls[0]?.request).toMatchObject({
      scopes: [{ scope: folder({ folderId }).key, bootstrap: true }],
      snapshots: { Note: expect.any(String) },
    });
    expect(firstPulls.flatMap((pull) => pull.items)).toEqual([
      `snapshot ${long}@10`,
      ...Array.from({ length: 5 }, () => 'event'),
    ]);
    expect(bob.streamReads).toEqual([]);

    // Older history on demand: versions 1..9, with the server's ids, stored as history; the
    // base, the state and the projection row stay as they were (nothing applied twice).
    expect(await call(bob, 'loadHistory', long)).toBe(9);
    // One read of the server's stream, of exactly what the base stands for.
    expect(bob.streamReads).toEqual([`/v1/streams/Note/${long}/events?fromVersion=1&limit=9`]);
    expect(await localEventsOf(bob, long)).toEqual(await serverEventsOf(server, long));
    expect(versionsOf(await localEventsOf(bob, long))).toEqual(range(1, 12));
    expect(await localEvents(bob)).toHaveLength(14);
    expect(await localBases(bob)).toMatchObject([{ aggregateId: long, version: 10 }]);
    expect(await localNotes(bob)).toEqual(rows);
    expect(await call(bob, 'load', long)).toMatchObject({ version: 12, state: { edits: 11 } });
    // The short note has no base: nothing to fetch.
    expect(await call(bob, 'loadHistory', short)).toBe(0);
    expect(await localEvents(bob)).toHaveLength(14);

    // A reload (same database): the state, the base and the row survive, and nothing is
    // downloaded again. Its pulls read on from the scope's cursor, not back-filling.
    const beforeReload = (await localEvents(bob)).map((row) => row.id).sort();
    const pullsBeforeReload = bob.pulls.length;
    await bob.page.reload();
    await started(bob);
    await call(bob, 'whenSynced');
    expect((await localEvents(bob)).map((row) => row.id).sort()).toEqual(beforeReload);
    expect(await localBases(bob)).toMatchObject([{ aggregateId: long, version: 10 }]);
    expect(await localNotes(bob)).toEqual(rows);
    expect(await call(bob, 'load', long)).toEqual({
      state: { folderId, text: 'edit 11', edits: 11 },
      version: 12,
    });
    // The reloaded device catches up from its cursor: one pull at least (awaited, since
    // `whenSynced` may answer from the caught-up state the database kept), nothing in it.
    await eventually(async () => expect(bob.pulls.length).toBeGreaterThan(pullsBeforeReload));
    const laterPulls = (await pulls(bob)).slice(pullsBeforeReload);
    for (const pull of laterPulls) {
      expect(pull.request.scopes).toEqual([
        { scope: folder({ folderId }).key, after: expect.any(String) },
      ]);
      expect(pull.items).toEqual([]);
    }

    // It writes on top of the snapshot's state: the server decides version 13 on its own state,
    // and the device holds it confirmed, with the server's id.
    expect(await call(bob, 'execute', long, 'edit', { text: 'from bob' })).toMatchObject({
      ok: true,
      version: 13,
    });
    await call(bob, 'whenSynced');
    await eventually(async () =>
      expect(await localEventsOf(bob, long)).toEqual(await serverEventsOf(server, long)),
    );
    const upstream = await server.events(long);
    expect(upstream.map((event) => event.version)).toEqual(range(1, 13));
    expect(upstream.at(-1)).toMatchObject({ version: 13, type: 'NoteEdited' });
    expect(await localNotes(bob)).toEqual([
      { id: long, folderId, text: 'from bob', edits: 12 },
      rows[1],
    ]);
    expect(await call(bob, 'load', long)).toEqual({
      state: { folderId, text: 'from bob', edits: 12 },
      version: 13,
    });
    expect(await call(bob, 'readStore', 'commands')).toEqual([]);
  });

  it('an app whose Note does not opt in back-fills all of its history and keeps no base', async () => {
    const server = await startNoteServer();
    const folderId = 'f2';
    const { long, short } = await writeFolder(server, 'ann', folderId, 11);
    expect(await server.snapshotVersion(long)).toBe(10);

    const carol = await openDevice(server, 'carol', [folderId], { bootstrap: false });
    expect(await call(carol, 'readStore', 'bases')).toEqual([]);
    await call(carol, 'whenSynced');

    expect(await localEventsOf(carol, long)).toEqual(await serverEventsOf(server, long));
    expect(versionsOf(await localEventsOf(carol, long))).toEqual(range(1, 12));
    expect(await localEventsOf(carol, short)).toEqual(await serverEventsOf(server, short));
    expect(await localBases(carol)).toEqual([]);
    expect(await localNotes(carol)).toEqual([
      { id: long, folderId, text: 'edit 11', edits: 11 },
      { id: short, folderId, text: 'short, edited', edits: 1 },
    ]);
    // It never asked for snapshots, and the server sent none.
    const sent = await pulls(carol);
    expect(sent.length).toBeGreaterThan(0);
    for (const pull of sent) {
      expect(pull.request.snapshots).toBeUndefined();
      expect(pull.items.filter((item) => item.startsWith('snapshot'))).toEqual([]);
    }
    expect(await call(carol, 'loadHistory', long)).toBe(0);
    expect(await localEvents(carol)).toHaveLength(14);
  });
});
