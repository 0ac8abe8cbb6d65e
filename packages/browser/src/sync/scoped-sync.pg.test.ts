// Scoped sync (issue 15), client side, against the real edge server on Postgres: devices of two
// users hold exactly their scopes' tasks (read from their Dexie tables), a grant back-fills, a
// revocation drops the scope's data and rejects the pending commands on it (FORBIDDEN), and a
// task reassigned by an event leaves one device and appears on the other.
import 'fake-indexeddb/auto';
import { type CommandPrincipal, newKsuid, type ScopeRef } from '@strata/core';
import { assignedTo, project, Task, taskScopes } from '@strata/example-todo';
import { bearerToken } from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  startTestClient,
  startTestServer,
  TEST_TENANT,
  type TestClient,
  type TestServer,
} from '../../test/fixtures/sync-harness.ts';
import { syncedRows } from '../../test/fixtures/synced-rows.ts';
import { type TaskRow, taskList, taskTables } from '../../test/fixtures/task-list.ts';

const secret = 'a-test-secret-of-enough-length';
/** Which projects each user may hold: the server's rule reads it, tests change it. */
const grants = new Map<string, Set<string>>();
/** The harness reads the server's whole log as this user (the only holder of `tenant`). */
const AUDITOR = 'user-1';

let server: TestServer;
const clients: TestClient[] = [];

beforeAll(async () => {
  server = await startTestServer({
    jwtSecret: secret,
    aggregates: [Task],
    scopes: {
      definitions: [project, assignedTo],
      membership: [taskScopes],
      rules: {
        project: (principal, { projectId }) =>
          grants.get(principal.subject)?.has(projectId) === true,
        assignedTo: (principal, { userId }) => principal.subject === userId,
        tenant: (principal) => principal.subject === AUDITOR,
      },
    },
    heartbeatMs: 200,
  });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server.stop();
});

/** Ids unique to each test: tests share the server, users and projects are their own. */
const unique = () => newKsuid().slice(-8);

async function device(user: string, scopes: readonly ScopeRef[]) {
  const token = await bearerToken(secret, TEST_TENANT, user);
  const principal: CommandPrincipal = { userId: user, tenant: TEST_TENANT, claims: {} };
  const client = await startTestClient(
    server.url,
    `${user}-device`,
    { aggregates: [Task], token: () => token, scopes, refusedScopeRetryMs: 100 },
    { tables: taskTables, projections: [taskList], principal },
  );
  clients.push(client);
  return client;
}

/** The tasks a device's IndexedDB holds events of, sorted. */
async function heldTasks(client: TestClient): Promise<string[]> {
  const rows = await client.strata.db.events.toArray();
  return [...new Set(rows.map((row) => row.aggregateId))].sort();
}
async function taskRows(client: TestClient): Promise<string[]> {
  const rows = await client.strata.db.table<TaskRow, string>('tasks').toArray();
  return rows.map((row) => row.id).sort();
}

/** The device holds exactly the server's events of `ids` (ids and versions), none pending. */
async function expectServerEvents(client: TestClient, ids: readonly string[]) {
  const upstream = (await server.events()).filter((e) => ids.includes(e.aggregateId));
  const local = await syncedRows(client.strata.db);
  expect(
    local.filter((row) => row.pending === 1),
    client.name,
  ).toEqual([]);
  expect(local.map((row) => [row.id, row.version]).sort(), client.name).toEqual(
    upstream.map((event) => [event.id, event.version]).sort(),
  );
}

const create = (client: TestClient, id: string, projectId: string, assignee: string) =>
  client.strata.execute(Task, id, 'create', { projectId, title: `task ${id}`, assignee });

describe('scoped sync against the edge server', () => {
  it('two users with different scopes each hold exactly their scopes’ aggregates', async () => {
    const [ann, bob, p1, p2] = [
      `ann-${unique()}`,
      `bob-${unique()}`,
      `p1-${unique()}`,
      `p2-${unique()}`,
    ];
    grants.set(bob, new Set([p1]));
    const annDevice = await device(ann, [assignedTo({ userId: ann })]);
    const bobDevice = await device(bob, [project({ projectId: p1 }), assignedTo({ userId: bob })]);
    const [a1, b1, b2, x1] = ['a1', 'b1', 'b2', 'x1'].map((name) => `${name}-${unique()}`) as [
      string,
      string,
      string,
      string,
    ];
    await create(annDevice, a1, p1, ann);
    await create(bobDevice, b1, p1, bob);
    await create(bobDevice, b2, p2, bob);
    // Bob writes a task for ann in p1: both hold it (she as its assignee, he by its project).
    await create(bobDevice, x1, p1, ann);
    await annDevice.sync.whenSynced();
    await bobDevice.sync.whenSynced();
    await eventually(async () => expect(await heldTasks(annDevice)).toEqual([a1, x1].sort()));
    await eventually(async () =>
      expect(await heldTasks(bobDevice)).toEqual([a1, b1, b2, x1].sort()),
    );
    await expectServerEvents(annDevice, [a1, x1]);
    await expectServerEvents(bobDevice, [a1, b1, b2, x1]);
    expect(await taskRows(annDevice)).toEqual([a1, x1].sort());
    expect(await taskRows(bobDevice)).toEqual([a1, b1, b2, x1].sort());
    expect([...annDevice.rejected, ...bobDevice.rejected]).toEqual([]);
    const annMembers = await annDevice.strata.db.scopeMembers.toArray();
    expect(annMembers.map((row) => row.aggregateId).sort()).toEqual([a1, x1].sort());
  });

  it('a grant later back-fills the scope; a revocation drops it and rejects its pending commands', async () => {
    const [ann, bob, p1] = [`ann-${unique()}`, `bob-${unique()}`, `p1-${unique()}`];
    const [t1, t2] = [`t1-${unique()}`, `t2-${unique()}`];
    grants.set(bob, new Set([p1]));
    const bobDevice = await device(bob, [project({ projectId: p1 })]);
    await create(bobDevice, t1, p1, bob);
    await create(bobDevice, t2, p1, bob);
    await bobDevice.sync.whenSynced();

    const annDevice = await device(ann, [assignedTo({ userId: ann }), project({ projectId: p1 })]);
    await annDevice.sync.whenSynced();
    expect(await heldTasks(annDevice)).toEqual([]);
    const refused = await new Promise<readonly string[] | undefined>((resolve) => {
      const subscription = annDevice.sync.status.subscribe((status) => {
        if ((status.scopes?.refused.length ?? 0) > 0) {
          resolve(status.scopes?.refused);
          queueMicrotask(() => subscription.unsubscribe());
        }
      });
    });
    expect(refused).toEqual([project({ projectId: p1 }).key]);

    // Granted: the refused scope is asked for again and back-fills.
    grants.set(ann, new Set([p1]));
    await eventually(async () => expect(await heldTasks(annDevice)).toEqual([t1, t2].sort()));
    await eventually(() => expectServerEvents(annDevice, [t1, t2]));
    expect(await taskRows(annDevice)).toEqual([t1, t2].sort());

    // Offline, ann renames t1; then p1 is revoked. Back online, t1 and t2 go and the rename is
    // rejected FORBIDDEN (never silently dropped).
    annDevice.network.setOnline(false);
    await annDevice.strata.execute(Task, t1, 'rename', { title: 'renamed offline' });
    grants.set(ann, new Set());
    annDevice.network.setOnline(true);
    annDevice.sync.syncNow();
    await eventually(async () => expect(await heldTasks(annDevice)).toEqual([]));
    await eventually(async () =>
      expect(annDevice.rejected.map((row) => [row.aggregateId, row.command, row.code])).toEqual([
        [t1, 'rename', 'FORBIDDEN'],
      ]),
    );
    expect(await taskRows(annDevice)).toEqual([]);
    expect(await annDevice.strata.pendingCommands()).toEqual([]);
    expect(await annDevice.strata.db.scopeMembers.count()).toBe(0);
    // The server never stored the rename.
    const stored = (await server.events()).filter((event) => event.aggregateId === t1);
    expect(stored.map((event) => event.type)).toEqual(['TaskCreated']);
  });

  it('a task reassigned by an event leaves one device and appears on the other', async () => {
    const [ann, bob, p1] = [`ann-${unique()}`, `bob-${unique()}`, `p1-${unique()}`];
    const t1 = `t1-${unique()}`;
    const annDevice = await device(ann, [assignedTo({ userId: ann })]);
    const bobDevice = await device(bob, [assignedTo({ userId: bob })]);
    await create(annDevice, t1, p1, ann);
    await annDevice.strata.execute(Task, t1, 'rename', { title: 'second' });
    await annDevice.sync.whenSynced();
    await bobDevice.sync.whenSynced();
    expect(await heldTasks(annDevice)).toEqual([t1]);
    expect(await heldTasks(bobDevice)).toEqual([]);

    await annDevice.strata.execute(Task, t1, 'reassign', { assignee: bob });
    await eventually(async () => expect(await heldTasks(annDevice)).toEqual([]));
    await eventually(() => expectServerEvents(bobDevice, [t1]));
    expect(await taskRows(annDevice)).toEqual([]);
    expect(await taskRows(bobDevice)).toEqual([t1]);
    expect(annDevice.rejected).toEqual([]);
    expect((await bobDevice.strata.load(Task, t1)).state.assignee).toBe(bob);
  });

  it('follows live a scope set whose keys are too long for a URL (POST /v2/subscribe)', async () => {
    const [ann, bob, p1] = [`ann-${unique()}`, `bob-${unique()}`, `p1-${unique()}`];
    const long = Array.from({ length: 40 }, (_, n) => `${p1}-${n}-${'x'.repeat(400)}`);
    grants.set(bob, new Set([p1, ...long]));
    const scopes = [p1, ...long].map((projectId) => project({ projectId }));
    // The real server refuses such a GET before any route sees it (it drops the connection).
    const query = new URLSearchParams(scopes.map((scope) => ['scope', scope.key]));
    const refused = await fetch(new URL(`v2/subscribe?${query}`, server.url)).then(
      async (response) => {
        await response.body?.cancel();
        return response.status;
      },
      () => 'connection closed',
    );
    expect(refused === 'connection closed' || (typeof refused === 'number' && refused >= 400)).toBe(
      true,
    );

    const bobDevice = await device(bob, scopes);
    let connected = false;
    const watching = bobDevice.sync.status.subscribe((status) => {
      connected = status.connected;
    });
    try {
      await bobDevice.sync.whenSynced();
      await eventually(async () => expect(connected).toBe(true));
      const annDevice = await device(ann, [assignedTo({ userId: ann })]);
      const t1 = `t1-${unique()}`;
      await create(annDevice, t1, p1, ann);
      await eventually(async () => expect(await heldTasks(bobDevice)).toEqual([t1]));
      await expectServerEvents(bobDevice, [t1]);
    } finally {
      watching.unsubscribe();
    }
  });
});
