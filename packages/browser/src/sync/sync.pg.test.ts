import 'fake-indexeddb/auto';
import { newKsuid } from '@strata/core';
import { Todo } from '@strata/example-todo';
import {
  bearerToken,
  commit,
  fetchAt,
  syncClient,
  todoEvent,
} from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectConverged } from '../../test/fixtures/convergence.ts';
import {
  eventually,
  startTestClient,
  startTestServer,
  TEST_TENANT,
  type TestClient,
  type TestServer,
} from '../../test/fixtures/sync-harness.ts';
import { syncedRows } from '../../test/fixtures/synced-rows.ts';
import type { CatchUpProgress } from './sync-status.ts';

let server: TestServer;
const clients: TestClient[] = [];
const client = async (
  ...args: Parameters<typeof startTestClient> extends [string, ...infer R] ? R : never
) => {
  const started = await startTestClient(server.url, ...args);
  clients.push(started);
  return started;
};

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server.stop();
});

describe('sync between clients through the edge server', () => {
  it('pushes offline work, confirms it with server positions, and delivers it to other clients', async () => {
    const alice = await client('alice');
    const bob = await client('bob');
    alice.network.setOnline(false);
    const ids = [newKsuid(), newKsuid()];
    await alice.strata.execute(Todo, ids[0] as string, 'add', { title: 'Milk' });
    await alice.strata.execute(Todo, ids[1] as string, 'add', { title: 'Bread' });
    await alice.strata.execute(Todo, ids[0] as string, 'complete', {});
    expect(await alice.strata.pendingCommands()).toHaveLength(3);

    alice.network.setOnline(true);
    alice.sync.syncNow();
    await eventually(() => expectConverged(server, [alice, bob], new Set(ids)));
    // Confirmed: no pending command lists them (acknowledged rows are not rewritten, issue 16).
    const confirmed = await syncedRows(alice.strata.db);
    expect(confirmed.every((row) => row.pending === 0)).toBe(true);
    expect((await bob.todoRows()).get(ids[0] as string)).toMatchObject({ status: 'completed' });
  });

  it('rebases on a conflict: pending commands re-run on the server state, or are rejected with a reason', async () => {
    const alice = await client('alice');
    const bob = await client('bob');
    const id = newKsuid();
    const ids = [id];
    await alice.strata.execute(Todo, id, 'add', { title: 'Shared' });
    await eventually(() => expectConverged(server, [alice, bob], new Set(ids)));

    alice.network.setOnline(false);
    bob.network.setOnline(false);
    // Alice renames then completes; Bob removes first. Bob's remove lands, so Alice's commands
    // no longer validate and must come back as rejections, not vanish.
    await alice.strata.execute(Todo, id, 'rename', { title: 'Shared, renamed' });
    await alice.strata.execute(Todo, id, 'complete', {});
    await bob.strata.execute(Todo, id, 'remove', {});
    bob.network.setOnline(true);
    bob.sync.syncNow();
    await eventually(async () => expect(await bob.strata.pendingCommands()).toEqual([]));
    alice.network.setOnline(true);
    alice.sync.syncNow();

    await eventually(() => expectConverged(server, [alice, bob], new Set(ids)));
    expect((await alice.todos()).get(id)?.status).toBe('removed');
    expect(alice.rejected.map((row) => [row.command, row.code])).toEqual([
      ['rename', 'DOMAIN_RULE_VIOLATED'],
      ['complete', 'DOMAIN_RULE_VIOLATED'],
    ]);
    expect((await alice.strata.db.rejected.toArray()).map((row) => row.command)).toEqual([
      'rename',
      'complete',
    ]);
  });

  it('re-runs commands that still validate after a conflict on top of the other client’s events', async () => {
    const alice = await client('alice');
    const bob = await client('bob');
    const id = newKsuid();
    const ids = [id];
    await alice.strata.execute(Todo, id, 'add', { title: 'Draft' });
    await eventually(() => expectConverged(server, [alice, bob], new Set(ids)));

    alice.network.setOnline(false);
    await alice.strata.execute(Todo, id, 'complete', {});
    await bob.strata.execute(Todo, id, 'rename', { title: 'Final' });
    await eventually(async () => expect(await bob.strata.pendingCommands()).toEqual([]));
    alice.network.setOnline(true);
    alice.sync.syncNow();

    await eventually(() => expectConverged(server, [alice, bob], new Set(ids)));
    expect((await bob.todos()).get(id)).toEqual({ status: 'completed', title: 'Final' });
    expect(alice.rejected).toEqual([]);
    const history = await bob.strata.history(Todo, id);
    expect(history.map((event) => event.type)).toEqual([
      'TodoAdded',
      'TodoRenamed',
      'TodoCompleted',
    ]);
  });
});

describe('commits the server refuses', () => {
  it('an event over the server’s size limit rejects its command; the others still sync', async () => {
    const strict = await startTestServer({ limits: { maxEventBytes: 700 } });
    try {
      const device = await startTestClient(strict.url, 'oversized');
      clients.push(device);
      device.network.setOnline(false);
      const [small, large, after] = [newKsuid(), newKsuid(), newKsuid()];
      await device.command(small, 'add', { title: 'Small' });
      await device.command(large, 'add', { title: 'L'.repeat(500) });
      await device.command(after, 'add', { title: 'After' });
      device.network.setOnline(true);
      device.sync.syncNow();

      await eventually(async () => {
        expect(await device.strata.pendingCommands()).toEqual([]);
        expect(device.rejected.map((row) => [row.aggregateId, row.code])).toEqual([
          [large, 'PAYLOAD_TOO_LARGE'],
        ]);
      });
      const stored = await strict.events();
      expect(stored.map((event) => event.aggregateId)).toEqual([small, after]);
      // The refused command's events are gone locally too: the local log equals the server's.
      await expectConverged(strict, [device], new Set([small, large, after]));
    } finally {
      await strict.stop();
    }
  });
});

describe('catch-up', () => {
  it('reports progress page by page, with the total the server counted', async () => {
    // Many events fast: pushed as events (v1, raw), not decided command by command.
    const bulk = await startTestServer({ authority: { Todo: 'events' } });
    try {
      const writer = syncClient(fetchAt(bulk.url), { clientId: 'bulk-writer' });
      const pushed = new Set<string>();
      for (let push = 0; push < 2; push++) {
        const commits = Array.from({ length: 20 }, () => {
          const id = newKsuid();
          return commit(
            `bulk-${id}`,
            ...Array.from({ length: 40 }, (_, v) => todoEvent(id, v + 1)),
          );
        });
        const { results } = await writer.push(...commits);
        expect(results.every((result) => result.status === 'accepted')).toBe(true);
        for (const event of commits.flatMap((c) => c.events)) pushed.add(event.id);
      }
      // Other tests' transactions on the cluster can hold back what readers may see for a moment.
      let total = 0;
      await eventually(async () => {
        const visible = await bulk.events();
        expect(visible.filter((event) => pushed.has(event.id))).toHaveLength(pushed.size);
        total = visible.length;
      });

      const progress: CatchUpProgress[] = [];
      const device = await startTestClient(bulk.url, 'catching-up', {
        pullLimit: 500,
        onProgress: (step) => progress.push(step),
      });
      clients.push(device);
      await device.sync.whenSynced();
      const pages = Math.ceil(total / 500);
      expect(progress).toEqual(
        Array.from({ length: pages }, (_, page) => ({
          received: Math.min(total, (page + 1) * 500),
          total,
          done: page === pages - 1,
        })),
      );
      expect(await device.strata.db.events.count()).toBe(total);
    } finally {
      await bulk.stop();
    }
  }, 30_000);
});

describe('authentication', () => {
  it('on a 401 calls onUnauthorized, then retries with the refreshed token', async () => {
    const secret = 'a-test-secret-of-enough-length';
    const guarded = await startTestServer({ jwtSecret: secret });
    try {
      let token = await bearerToken('another-secret', TEST_TENANT);
      let refreshes = 0;
      const device = await startTestClient(guarded.url, 'auth', {
        token: () => token,
        onUnauthorized: async () => {
          refreshes++;
          token = await bearerToken(secret, TEST_TENANT);
        },
      });
      clients.push(device);
      const id = newKsuid();
      await device.command(id, 'add', { title: 'Behind a login' });

      await eventually(() => expectConverged(guarded, [device], new Set([id])));
      expect(refreshes).toBe(1);
    } finally {
      await guarded.stop();
    }
  });
});
