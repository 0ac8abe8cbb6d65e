// Scoped sync end to end in Node: `startSync({ scopes })` on fake-indexeddb against an in-memory
// scoped server (test/fixtures/fake-scoped-server.ts) through the real HTTP transport. What is
// asserted is the device's database: events, scope rows, projection rows, rejected commands.
import 'fake-indexeddb/auto';
import {
  type CommandPrincipal,
  type EventEnvelope,
  newKsuid,
  type ScopeRef,
  tenantScope,
} from '@strata/core';
import { assignedTo, project, Task, taskScopes } from '@strata/example-todo';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeScopedServer } from '../../test/fixtures/fake-scoped-server.ts';
import { eventually } from '../../test/fixtures/sync-harness.ts';
import { syncedRows } from '../../test/fixtures/synced-rows.ts';
import { type TaskRow, taskList, taskTables } from '../../test/fixtures/task-list.ts';
import type { RejectedCommandRow } from '../database/strata-database.ts';
import { createStrata, type Strata } from '../runtime/create-strata.ts';
import { type SyncClient, type SyncOptions, startSync } from './start-sync.ts';
import type { SyncStatus } from './sync-status.ts';

type Server = ReturnType<typeof createFakeScopedServer>;
const running: { sync: SyncClient; strata: Strata }[] = [];

afterEach(async () => {
  for (const device of running.splice(0)) {
    await device.sync.stop();
    device.strata.close();
  }
});

/** Appends one Task event on the server (another device's write). */
function write(server: Server, taskId: string, type: string, data: unknown) {
  const version = server.events.filter((event) => event.aggregateId === taskId).length + 1;
  const event: EventEnvelope = {
    id: newKsuid(),
    type,
    schemaVersion: 1,
    aggregateType: 'Task',
    aggregateId: taskId,
    version,
    occurredAt: new Date().toISOString(),
    data: data as never,
    metadata: {},
  };
  server.append([event]);
}
const create = (server: Server, id: string, projectId: string, assignee: string) =>
  write(server, id, 'TaskCreated', { projectId, title: `task ${id}`, assignee });

/** A device syncing `scopes`; its database survives `stop` when `name` is reused. */
async function device(
  server: Server,
  scopes: readonly ScopeRef[],
  name = `device-${crypto.randomUUID()}`,
  options: Partial<SyncOptions> = {},
  user = 'ann',
) {
  const principal: CommandPrincipal = { userId: user, tenant: 't', claims: {} };
  const strata = await createStrata({
    name,
    tables: taskTables,
    projections: [taskList],
    principal,
  });
  const rejected: RejectedCommandRow[] = [];
  let status: SyncStatus | undefined;
  const sync = startSync(strata, {
    url: 'http://fake.test/',
    fetch: server.fetch,
    aggregates: [Task],
    scopes,
    locks: null,
    backoff: { initialDelayMs: 5, maxDelayMs: 50 },
    refusedScopeRetryMs: 50,
    onRejected: (rows) => rejected.push(...rows),
    ...options,
  });
  const subscription = sync.status.subscribe((next) => {
    status = next;
  });
  const handle = { sync, strata };
  running.push(handle);
  return {
    sync,
    strata,
    rejected,
    status: () => status,
    /** Task ids with events on the device, sorted. */
    async taskIds() {
      const rows = await strata.db.events.toArray();
      return [...new Set(rows.map((row) => row.aggregateId))].sort();
    },
    async taskRows() {
      return (await strata.db.table<TaskRow, string>('tasks').toArray())
        .map((row) => row.id)
        .sort();
    },
    async members() {
      return (await strata.db.scopeMembers.toArray())
        .map((row) => `${row.scope} ${row.aggregateId}`)
        .sort();
    },
    /** The device's events of `ids` equal the server's (ids and versions), none pending. */
    async expectServerEvents(ids: readonly string[]) {
      const local = (await syncedRows(strata.db)).map((row) => [row.id, row.version, row.pending]);
      const upstream = server.events
        .filter((event) => ids.includes(event.aggregateId))
        .map((event) => [event.id, event.version, 0]);
      expect(local.sort()).toEqual(upstream.sort());
    },
    async stop() {
      subscription.unsubscribe();
      running.splice(running.indexOf(handle), 1);
      await sync.stop();
      strata.close();
    },
  };
}

const annScope = assignedTo({ userId: 'ann' });
const bobScope = assignedTo({ userId: 'bob' });
const p1 = project({ projectId: 'p1' });
const p2 = project({ projectId: 'p2' });

describe('scoped sync (startSync with scopes)', () => {
  it('two users with different scopes each hold exactly their scopes’ aggregates', async () => {
    const server = createFakeScopedServer([taskScopes]);
    create(server, 'a1', 'p1', 'ann');
    create(server, 'b1', 'p1', 'bob');
    create(server, 'b2', 'p2', 'bob');
    write(server, 'a1', 'TaskRenamed', { title: 'renamed' });
    const ann = await device(server, [annScope]);
    const bob = await device(server, [p1], undefined, {}, 'bob');
    await ann.sync.whenSynced();
    await bob.sync.whenSynced();
    expect(await ann.taskIds()).toEqual(['a1']);
    expect(await bob.taskIds()).toEqual(['a1', 'b1']);
    await ann.expectServerEvents(['a1']);
    await bob.expectServerEvents(['a1', 'b1']);
    expect(await ann.taskRows()).toEqual(['a1']);
    expect(await ann.members()).toEqual([`${annScope.key} a1`]);
    await eventually(async () =>
      expect(ann.status()?.scopes).toEqual({ held: [annScope.key], backfilling: [], refused: [] }),
    );

    // Live: a new task in p1 assigned to ann reaches both; one for bob in p2 neither.
    create(server, 'a2', 'p1', 'ann');
    create(server, 'b3', 'p2', 'bob');
    await eventually(async () => expect(await ann.taskIds()).toEqual(['a1', 'a2']));
    await eventually(async () => expect(await bob.taskIds()).toEqual(['a1', 'a2', 'b1']));
    await ann.expectServerEvents(['a1', 'a2']);
    expect(server.requests.filter((r) => r.startsWith('subscribe'))).toContain(
      `subscribe ${annScope.key}`,
    );
  });

  it('back-fills an added scope while the others stay live, then follows all without gap or repeat', async () => {
    const server = createFakeScopedServer([taskScopes]);
    create(server, 'a1', 'p1', 'ann');
    for (let i = 0; i < 30; i++) create(server, `q${i}`, 'p2', 'bob');
    const ann = await device(server, [annScope], undefined, { pullLimit: 7 });
    await ann.sync.whenSynced();
    expect(await ann.taskIds()).toEqual(['a1']);

    await ann.sync.addScope(p2);
    write(server, 'a1', 'TaskRenamed', { title: 'during back-fill' });
    await eventually(async () => expect(ann.status()?.scopes?.held).toContain(p2.key));
    await ann.sync.whenSynced();
    const ids = ['a1', ...Array.from({ length: 30 }, (_, i) => `q${i}`)];
    await ann.expectServerEvents(ids);
    expect(await ann.taskRows()).toEqual([...ids].sort());

    // Joined: one stream for both scopes now; later writes in either arrive once.
    write(server, 'q3', 'TaskRenamed', { title: 'live in p2' });
    write(server, 'a1', 'TaskRenamed', { title: 'live for ann' });
    await eventually(() => ann.expectServerEvents(ids));
    expect(server.requests.at(-1)).toBe(`subscribe ${annScope.key} ${p2.key}`);
  });

  it('removing a scope drops what only it held and rejects its pending commands as FORBIDDEN', async () => {
    const server = createFakeScopedServer([taskScopes]);
    create(server, 'a1', 'p2', 'ann');
    create(server, 'b1', 'p2', 'bob');
    const ann = await device(server, [annScope, p2]);
    await ann.sync.whenSynced();
    expect(await ann.taskIds()).toEqual(['a1', 'b1']);

    server.setOnline(false);
    await ann.strata.execute(Task, 'b1', 'rename', { title: 'offline edit' });
    await ann.strata.execute(Task, 'a1', 'rename', { title: 'kept edit' });
    await ann.sync.removeScope(p2);
    // a1 is still held by assignedTo(ann); b1 only by the removed project.
    expect(await ann.taskIds()).toEqual(['a1']);
    expect(await ann.taskRows()).toEqual(['a1']);
    expect(await ann.members()).toEqual([`${annScope.key} a1`]);
    expect(ann.rejected.map((row) => [row.aggregateId, row.command, row.code])).toEqual([
      ['b1', 'rename', 'FORBIDDEN'],
    ]);
    expect((await ann.strata.db.rejected.toArray()).map((row) => row.code)).toEqual(['FORBIDDEN']);
    expect((await ann.strata.pendingCommands()).map((row) => row.aggregateId)).toEqual(['a1']);

    server.setOnline(true);
    ann.sync.syncNow();
    await ann.sync.whenSynced();
    await ann.expectServerEvents(['a1']);
    expect(server.events.filter((event) => event.aggregateId === 'b1')).toHaveLength(1);
  });

  it('a revoked scope is dropped and shown refused; a later grant back-fills it', async () => {
    const server = createFakeScopedServer([taskScopes]);
    create(server, 'a1', 'p1', 'ann');
    create(server, 'b1', 'p2', 'bob');
    const ann = await device(server, [annScope, p2]);
    await ann.sync.whenSynced();
    expect(await ann.taskIds()).toEqual(['a1', 'b1']);

    server.allow((scope) => scope !== p2.key);
    await eventually(async () => expect(await ann.taskIds()).toEqual(['a1']));
    await eventually(async () =>
      expect(ann.status()?.scopes).toEqual({
        held: [annScope.key],
        backfilling: [],
        refused: [p2.key],
      }),
    );
    expect(await ann.taskRows()).toEqual(['a1']);
    // The rest stays live meanwhile.
    create(server, 'a2', 'p2', 'ann');
    await eventually(async () => expect(await ann.taskIds()).toEqual(['a1', 'a2']));

    server.allow(() => true);
    await eventually(async () =>
      expect(ann.status()?.scopes?.held).toEqual([annScope.key, p2.key]),
    );
    await ann.sync.whenSynced();
    await ann.expectServerEvents(['a1', 'a2', 'b1']);
  });

  it('pending commands on a revoked scope’s aggregate wait for the server, which rejects them FORBIDDEN', async () => {
    const server = createFakeScopedServer([taskScopes]);
    create(server, 'b1', 'p2', 'bob');
    const ann = await device(server, [annScope, p2]);
    await ann.sync.whenSynced();
    server.setOnline(false);
    await ann.strata.execute(Task, 'b1', 'rename', { title: 'offline edit' });
    server.allow((scope) => scope === annScope.key);
    server.setOnline(true);
    ann.sync.syncNow();
    await eventually(async () => expect(await ann.taskIds()).toEqual([]));
    await eventually(async () =>
      expect(ann.rejected.map((row) => [row.aggregateId, row.code])).toEqual([['b1', 'FORBIDDEN']]),
    );
    expect(await ann.strata.pendingCommands()).toEqual([]);
    expect(await ann.strata.db.scopeMembers.count()).toBe(0);
  });

  it('a pending command on an aggregate that left its scopes ends rejected FORBIDDEN when the server has moved on (no endless retry)', async () => {
    const server = createFakeScopedServer([taskScopes]);
    create(server, 'b1', 'p2', 'bob');
    const ann = await device(server, [annScope, p2]);
    await ann.sync.whenSynced();
    server.setOnline(false);
    await ann.strata.execute(Task, 'b1', 'rename', { title: 'offline edit' });
    // Meanwhile another device moves it out of p2: ann gets its `left`, never its event.
    write(server, 'b1', 'TaskMoved', { projectId: 'p3' });
    server.setOnline(true);
    ann.sync.syncNow();
    await eventually(async () =>
      expect(ann.rejected.map((row) => [row.aggregateId, row.command, row.code])).toEqual([
        ['b1', 'rename', 'FORBIDDEN'],
      ]),
    );
    await ann.sync.whenSynced();
    expect(await ann.taskIds()).toEqual([]);
    expect(await ann.taskRows()).toEqual([]);
    expect(await ann.strata.db.scopeMembers.count()).toBe(0);
    expect((await ann.strata.db.rejected.toArray()).map((row) => row.code)).toEqual(['FORBIDDEN']);
    expect(server.events.filter((event) => event.aggregateId === 'b1')).toHaveLength(2);
  });

  it('a command conflicting with changes outside its scopes ends rejected FORBIDDEN once a catch-up did not bring them; one inside is rebased', async () => {
    const server = createFakeScopedServer([taskScopes]);
    create(server, 'x1', 'p3', 'cy');
    create(server, 'a1', 'p1', 'ann');
    const ann = await device(server, [annScope]);
    await ann.sync.whenSynced();
    server.setOnline(false);
    // x1 exists on the server, in scopes ann does not hold: her create of it conflicts.
    await ann.strata.execute(Task, 'x1', 'create', {
      projectId: 'p1',
      title: 'x',
      assignee: 'ann',
    });
    await ann.strata.execute(Task, 'a1', 'rename', { title: 'ann’s rename' });
    write(server, 'a1', 'TaskRenamed', { title: 'someone else’s rename' });
    server.setOnline(true);
    ann.sync.syncNow();
    await eventually(async () =>
      expect(ann.rejected.map((row) => [row.aggregateId, row.command, row.code])).toEqual([
        ['x1', 'create', 'FORBIDDEN'],
      ]),
    );
    await ann.sync.whenSynced();
    expect(await ann.taskIds()).toEqual(['a1']);
    expect(await ann.taskRows()).toEqual(['a1']);
    expect(await ann.strata.pendingCommands()).toEqual([]);
    await ann.expectServerEvents(['a1']);
    expect(server.events.filter((event) => event.aggregateId === 'a1')).toHaveLength(3);
    expect(server.events.filter((event) => event.aggregateId === 'x1')).toHaveLength(1);
  });

  it('an aggregate reassigned by an event leaves one device and appears on the other', async () => {
    const server = createFakeScopedServer([taskScopes]);
    create(server, 't1', 'p1', 'ann');
    write(server, 't1', 'TaskRenamed', { title: 'two' });
    const ann = await device(server, [annScope]);
    const bob = await device(server, [bobScope], undefined, {}, 'bob');
    await ann.sync.whenSynced();
    await bob.sync.whenSynced();
    expect(await ann.taskIds()).toEqual(['t1']);
    expect(await bob.taskIds()).toEqual([]);

    write(server, 't1', 'TaskReassigned', { assignee: 'bob' });
    await eventually(async () => expect(await ann.taskIds()).toEqual([]));
    await eventually(() => bob.expectServerEvents(['t1']));
    expect(await ann.taskRows()).toEqual([]);
    expect(await bob.taskRows()).toEqual(['t1']);
    expect(await ann.strata.db.scopeMembers.count()).toBe(0);
  });

  it('a stream cut inside a position (after its event, before its `left`) resumes with the rest of it', async () => {
    const server = createFakeScopedServer([taskScopes]);
    create(server, 't1', 'p1', 'ann');
    const ann = await device(server, [annScope, p1]);
    await ann.sync.whenSynced();
    expect(await ann.members()).toEqual([`${annScope.key} t1`, `${p1.key} t1`]);

    // Reassigned to bob: one position, the event (still in p1) and the `left` of assignedTo(ann).
    server.cutStreamAfter((item) => item.kind === 'event' && item.event.type === 'TaskReassigned');
    write(server, 't1', 'TaskReassigned', { assignee: 'bob' });
    await eventually(async () => expect(await ann.members()).toEqual([`${p1.key} t1`]));
    await eventually(() => ann.expectServerEvents(['t1']));
    // Only p1 holds it now: removing p1 takes it off the device.
    await ann.sync.removeScope(p1);
    expect(await ann.taskIds()).toEqual([]);
  });

  it('reassigning its own task away drops it once the server took the command, rejecting nothing', async () => {
    const server = createFakeScopedServer([taskScopes]);
    create(server, 't1', 'p1', 'ann');
    const ann = await device(server, [annScope]);
    await ann.sync.whenSynced();
    await ann.strata.execute(Task, 't1', 'reassign', { assignee: 'bob' });
    await eventually(async () => expect(await ann.taskIds()).toEqual([]));
    await ann.sync.whenSynced();
    expect(ann.rejected).toEqual([]);
    expect(server.events.map((event) => event.type)).toEqual(['TaskCreated', 'TaskReassigned']);
  });

  it('keeps a task created offline until the server has it, then holds it by its scope', async () => {
    const server = createFakeScopedServer([taskScopes]);
    const ann = await device(server, [annScope]);
    await ann.sync.whenSynced();
    await ann.strata.execute(Task, 'n1', 'create', {
      projectId: 'p9',
      title: 'new',
      assignee: 'ann',
    });
    await eventually(async () => expect(await ann.members()).toEqual([`${annScope.key} n1`]));
    await ann.sync.whenSynced();
    await ann.expectServerEvents(['n1']);
  });

  it('a task it creates outside its scopes (another user’s, in a project it does not hold) leaves the device once the server took it', async () => {
    const server = createFakeScopedServer([taskScopes]);
    create(server, 'a1', 'p1', 'ann');
    const ann = await device(server, [annScope]);
    await ann.sync.whenSynced();
    await ann.strata.execute(Task, 'c1', 'create', {
      projectId: 'p3',
      title: 'cy’s',
      assignee: 'cy',
    });
    await ann.strata.execute(Task, 'c1', 'rename', { title: 'cy’s, renamed' });
    await eventually(async () => expect(await ann.taskIds()).toEqual(['a1']));
    await ann.sync.whenSynced();
    expect(await ann.taskRows()).toEqual(['a1']);
    expect(await ann.members()).toEqual([`${annScope.key} a1`]);
    expect(ann.rejected).toEqual([]);
    expect(await ann.strata.db.snapshots.count()).toBe(0);
    expect(server.events.filter((event) => event.aggregateId === 'c1')).toHaveLength(2);

    // One it creates in a held scope is recorded there from the answer (upstream confirms it).
    await ann.strata.execute(Task, 'a2', 'create', {
      projectId: 'p3',
      title: 'mine',
      assignee: 'ann',
    });
    await ann.sync.whenSynced();
    await eventually(async () =>
      expect(await ann.members()).toEqual([`${annScope.key} a1`, `${annScope.key} a2`]),
    );
    await ann.expectServerEvents(['a1', 'a2']);
  });

  it('restarting with another set drops what the removed scopes alone held, and resumes the rest', async () => {
    const server = createFakeScopedServer([taskScopes]);
    create(server, 'a1', 'p1', 'ann');
    create(server, 'b1', 'p2', 'bob');
    const name = `restart-${crypto.randomUUID()}`;
    const first = await device(server, [annScope, p2], name);
    await first.sync.whenSynced();
    expect(await first.taskIds()).toEqual(['a1', 'b1']);
    await first.stop();

    create(server, 'a2', 'p1', 'ann');
    const again = await device(server, [annScope], name);
    await again.sync.whenSynced();
    expect(await again.taskIds()).toEqual(['a1', 'a2']);
    await again.expectServerEvents(['a1', 'a2']);
    // Resumed from its cursor: the pull asked for assignedTo(ann) after where it stopped.
    expect(server.requests.filter((r) => r.startsWith('pull')).length).toBeGreaterThan(0);
  });

  it('a database that synced the whole tenant keeps only its scopes’ aggregates once started with scopes; a command pending from then is answered first', async () => {
    const server = createFakeScopedServer([taskScopes]);
    create(server, 'a1', 'p1', 'ann');
    create(server, 'b1', 'p2', 'bob');
    create(server, 'b2', 'p2', 'bob');
    const name = `v1-then-scoped-${crypto.randomUUID()}`;
    const principal: CommandPrincipal = { userId: 'ann', tenant: 't', claims: {} };
    const whole = await createStrata({
      name,
      tables: taskTables,
      projections: [taskList],
      principal,
    });
    const v1 = startSync(whole, {
      url: 'http://fake.test/',
      fetch: server.fetch,
      aggregates: [Task],
      locks: null,
      live: false,
    });
    await v1.whenSynced();
    server.setOnline(false);
    await whole.execute(Task, 'b2', 'rename', { title: 'written before the switch' });
    await v1.stop();
    expect(
      [...new Set((await whole.db.events.toArray()).map((row) => row.aggregateId))].sort(),
    ).toEqual(['a1', 'b1', 'b2']);
    whole.close();

    server.setOnline(true);
    const ann = await device(server, [annScope], name);
    await eventually(async () => expect(await ann.taskIds()).toEqual(['a1']));
    await ann.sync.whenSynced();
    expect(await ann.taskRows()).toEqual(['a1']);
    expect(await ann.members()).toEqual([`${annScope.key} a1`]);
    await ann.expectServerEvents(['a1']);
    // The pending rename went up first (the server has it), then b2 went too; nothing rejected.
    expect(server.events.filter((event) => event.aggregateId === 'b2')).toHaveLength(2);
    expect(ann.rejected).toEqual([]);
    expect(await ann.strata.pendingCommands()).toEqual([]);
    // The whole tenant's cursor went with its data: a later unscoped start reads from the start.
    expect(await ann.strata.db.syncState.get('cursor')).toBeUndefined();
  });

  it('a scope added right after start is kept: the set given at start is written first', async () => {
    const server = createFakeScopedServer([taskScopes]);
    create(server, 'a1', 'p1', 'ann');
    create(server, 'b1', 'p2', 'bob');
    const ann = await device(server, [annScope]);
    await ann.sync.addScope(p2);
    await eventually(async () =>
      expect(ann.status()?.scopes?.held).toEqual([annScope.key, p2.key]),
    );
    await ann.sync.whenSynced();
    expect(await ann.taskIds()).toEqual(['a1', 'b1']);
  });

  it('holds the whole tenant as a scope of its own', async () => {
    const server = createFakeScopedServer([taskScopes]);
    create(server, 'a1', 'p1', 'ann');
    const ann = await device(server, [tenantScope]);
    await ann.sync.whenSynced();
    await ann.expectServerEvents(['a1']);
    await eventually(async () => expect(ann.status()?.scopes?.held).toEqual(['tenant']));
  });

  it('refuses scope changes when started without scopes', async () => {
    const server = createFakeScopedServer([taskScopes]);
    const strata = await createStrata({ name: `v1-${crypto.randomUUID()}` });
    const sync = startSync(strata, {
      url: 'http://fake.test/',
      fetch: server.fetch,
      aggregates: [Task],
      locks: null,
      live: false,
    });
    await expect(sync.addScope(p1)).rejects.toThrow(TypeError);
    await sync.stop();
    strata.close();
  });
});
