// Scoped sync in Chromium: two users' devices, each its own IndexedDB database, sync different
// scopes from the in-memory scoped server (test/fixtures/fake-scoped-server.ts, through the real
// HTTP transport); each database, read with the raw IndexedDB API, holds exactly its scopes'
// tasks. (Against the real edge server this runs in Node: scoped-sync.pg.test.ts.)
import { newKsuid, type ScopeRef } from '@strata/core';
import { assignedTo, project, Task, taskScopes } from '@strata/example-todo';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeScopedServer } from '../../test/fixtures/fake-scoped-server.ts';
import { taskList, taskTables } from '../../test/fixtures/task-list.ts';
import { createStrata, type Strata } from '../runtime/create-strata.ts';
import { type SyncClient, startSync } from './start-sync.ts';

const running: { sync: SyncClient; strata: Strata }[] = [];
afterEach(async () => {
  for (const { sync, strata } of running.splice(0)) {
    await sync.stop();
    strata.close();
  }
});

/** Every row of `store` in database `name`, read with IndexedDB itself (no Dexie). */
function readStore(name: string, store: string): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(name);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const request = db.transaction(store, 'readonly').objectStore(store).getAll();
      request.onerror = () => reject(request.error);
      request.onsuccess = () => {
        db.close();
        resolve(request.result as Record<string, unknown>[]);
      };
    };
  });
}

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let tries = 0; !(await check()); tries++) {
    if (tries > 400) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('scoped sync in Chromium', () => {
  it('two users’ devices each hold exactly their scopes’ tasks in IndexedDB', async () => {
    const server = createFakeScopedServer([taskScopes]);
    const write = (id: string, type: string, data: unknown) =>
      server.append([
        {
          id: newKsuid(),
          type,
          schemaVersion: 1,
          aggregateType: 'Task',
          aggregateId: id,
          version: server.events.filter((event) => event.aggregateId === id).length + 1,
          occurredAt: new Date().toISOString(),
          data: data as never,
          metadata: {},
        },
      ]);
    write('a1', 'TaskCreated', { projectId: 'p1', title: 'ann’s', assignee: 'ann' });
    write('b1', 'TaskCreated', { projectId: 'p2', title: 'bob’s', assignee: 'bob' });
    write('c1', 'TaskCreated', { projectId: 'p1', title: 'cy’s', assignee: 'cy' });
    write('a1', 'TaskRenamed', { title: 'ann’s, renamed' });

    const start = async (user: string, scopes: readonly ScopeRef[]) => {
      const name = `scoped-${user}-${crypto.randomUUID()}`;
      const strata = await createStrata({ name, tables: taskTables, projections: [taskList] });
      const sync = startSync(strata, {
        url: 'http://fake.test/',
        fetch: server.fetch,
        aggregates: [Task],
        scopes,
        locks: null,
      });
      running.push({ sync, strata });
      await sync.whenSynced();
      return name;
    };
    const ann = await start('ann', [assignedTo({ userId: 'ann' })]);
    const bob = await start('bob', [project({ projectId: 'p1' }), assignedTo({ userId: 'bob' })]);

    const ids = async (name: string, store: string, field: string) =>
      [...new Set((await readStore(name, store)).map((row) => row[field]))].sort();
    expect(await ids(ann, 'events', 'aggregateId')).toEqual(['a1']);
    expect(await ids(bob, 'events', 'aggregateId')).toEqual(['a1', 'b1', 'c1']);
    expect(await readStore(ann, 'events')).toHaveLength(2);
    expect(await ids(ann, 'tasks', 'id')).toEqual(['a1']);
    expect(await ids(bob, 'tasks', 'id')).toEqual(['a1', 'b1', 'c1']);
    expect((await readStore(ann, 'scopeMembers')).map((row) => row.scope)).toEqual([
      assignedTo({ userId: 'ann' }).key,
    ]);

    // Reassigned to bob: it leaves ann's database and stays in bob's (he holds p1 too).
    write('a1', 'TaskReassigned', { assignee: 'bob' });
    await waitFor(async () => (await readStore(ann, 'events')).length === 0);
    expect(await readStore(ann, 'tasks')).toEqual([]);
    await waitFor(async () => (await readStore(bob, 'events')).length === 5);
    expect(await ids(bob, 'events', 'aggregateId')).toEqual(['a1', 'b1', 'c1']);
  });
});
