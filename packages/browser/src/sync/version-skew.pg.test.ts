// Issue 17, end to end on the real edge server and Postgres, with the real sync client (on
// fake-indexeddb): commands an old app version executed offline are pushed after the app updated
// (upgraded on startup by the declared upgrader, or rejected visibly), and an old app still
// running against the updated server has its removed command refused once, typed, not retried.
import 'fake-indexeddb/auto';
import { bearerToken } from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type MemoRow,
  memoTables,
  NewMemo,
  newMemoList,
  OldMemo,
  oldMemoList,
} from '../../test/fixtures/memo-versions.ts';
import {
  eventually,
  startTestClient,
  startTestServer,
  type TestClient,
  type TestServer,
} from '../../test/fixtures/sync-harness.ts';
import { syncedRows } from '../../test/fixtures/synced-rows.ts';
import { createStrata } from '../runtime/create-strata.ts';

const secret = 'a-version-skew-secret-long-enough';
let server: TestServer;
const clients: TestClient[] = [];

beforeAll(async () => {
  // The server runs the new app's definitions.
  server = await startTestServer({ jwtSecret: secret, aggregates: [NewMemo] });
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await server.stop();
});

async function serverEvents(tenant: string) {
  return server.query<{ id: string; aggregate_id: string; schema_version: number; data: unknown }>(
    `SELECT id, aggregate_id, schema_version, data FROM strata_events
      WHERE tenant = $1 ORDER BY tenant_position`,
    [tenant],
  );
}

describe('version skew, seen from a device', () => {
  it('pushes offline commands of the old app version after the update: upgraded, or rejected visibly', async () => {
    const tenant = 'updated-device';
    const token = await bearerToken(secret, tenant, 'ann');
    const name = `version-skew-${crypto.randomUUID()}`;
    // The old app, offline: three commands wait in its outbox.
    const old = await createStrata({ name, tables: memoTables, projections: [oldMemoList] });
    await old.execute(OldMemo, 'm1', 'write', { text: ' Milk ' });
    await old.execute(OldMemo, 'm2', 'archive', {});
    await old.execute(OldMemo, 'm3', 'write', { text: 'explode' });
    await old.execute(OldMemo, 'm1', 'write', { text: 'Oat milk' });
    old.close();

    // The updated app opens the same database and syncs; its pushes are recorded.
    const pushed: { command: { aggregateId: string; input: unknown; inputVersion?: number } }[] =
      [];
    const recording: typeof fetch = async (url, init) => {
      if (String(url).endsWith('/v2/push')) pushed.push(...JSON.parse(String(init?.body)).commits);
      return fetch(url, init);
    };
    const device = await startTestClient(
      server.url,
      'updated',
      { aggregates: [NewMemo], token: () => token, fetch: recording },
      { name, tables: memoTables, projections: [newMemoList] },
    );
    clients.push(device);
    await device.sync.whenSynced();

    // Upgraded on startup, before the push: the wire carries version 2, and never the two it
    // could not carry over.
    expect(
      pushed.map(({ command }) => [command.aggregateId, command.input, command.inputVersion]),
    ).toEqual([
      ['m1', { title: 'Milk' }, 2],
      ['m1', { title: 'Oat milk' }, 2],
    ]);
    const stored = await serverEvents(tenant);
    expect(
      stored.map((event) => [event.aggregate_id, Number(event.schema_version), event.data]),
    ).toEqual([
      ['m1', 2, { title: 'Milk', pinned: false }],
      ['m1', 2, { title: 'Oat milk', pinned: false }],
    ]);
    const logged = await server.query<{ aggregate_id: string }>(
      'SELECT aggregate_id FROM strata_commands WHERE tenant = $1',
      [tenant],
    );
    expect(logged.map((row) => row.aggregate_id)).toEqual(['m1', 'm1']);
    // The device holds exactly the server's events, nothing pending.
    const local = await syncedRows(device.strata.db);
    expect(local.filter((row) => row.pending === 1)).toEqual([]);
    expect(local.map((row) => row.id).sort()).toEqual(stored.map((event) => event.id).sort());
    expect(await device.strata.pendingCommands()).toEqual([]);
    // The two it could not carry over are in the rejected list, with their codes and reasons.
    const rejected = await new Promise<{ aggregateId: string; code: string; reason: string }[]>(
      (resolve) => {
        const subscription = device.sync.rejected.subscribe((rows) => {
          if (rows.length < 2) return;
          subscription.unsubscribe();
          resolve(rows);
        });
      },
    );
    expect(rejected.map((row) => [row.aggregateId, row.code]).sort()).toEqual([
      ['m2', 'UNKNOWN_COMMAND'],
      ['m3', 'VALIDATION_FAILED'],
    ]);
    expect(device.rejected.map((row) => row.aggregateId).sort()).toEqual(['m2', 'm3']);
    expect(await device.strata.db.table<MemoRow, string>('memos').toArray()).toEqual([
      { id: 'm1', title: 'Oat milk', writes: 2 },
    ]);
  });

  it('an old app still running: its removed command is refused once, typed, and not retried', async () => {
    const tenant = 'old-device';
    const token = await bearerToken(secret, tenant, 'bob');
    const device = await startTestClient(
      server.url,
      'old',
      { aggregates: [OldMemo], token: () => token },
      { tables: memoTables, projections: [oldMemoList] },
    );
    clients.push(device);
    await device.strata.execute(OldMemo, 'm9', 'archive', {});
    await eventually(async () => expect(device.rejected).toHaveLength(1));
    expect(device.rejected[0]).toMatchObject({ aggregateId: 'm9', code: 'UNKNOWN_COMMAND' });
    expect(device.rejected[0]?.reason).toContain('has no command "archive"');
    await device.sync.whenSynced();
    const pushes = device.network.paths.filter((path) => path.endsWith('/v2/push')).length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(device.network.paths.filter((path) => path.endsWith('/v2/push'))).toHaveLength(pushes);
    expect(await device.strata.pendingCommands()).toEqual([]);
    expect(await serverEvents(tenant)).toEqual([]);
    const status = await new Promise<{ lastError?: unknown }>((resolve) => {
      const subscription = device.sync.status.subscribe((value) => {
        subscription.unsubscribe();
        resolve(value);
      });
    });
    expect(status.lastError).toBeUndefined();
  });

  it('a server of another protocol: the device says so in its status, keeps its commands, waits', async () => {
    const tenant = 'other-protocol';
    const token = await bearerToken(secret, tenant, 'cy');
    // This device speaks a protocol the server does not (as a newer app would): its pushes are
    // rewritten on the way, until the server "updates".
    let rewrite = true;
    let pushes = 0;
    const otherProtocol: typeof fetch = async (url, init) => {
      if (!String(url).endsWith('/v2/push')) return fetch(url, init);
      pushes++;
      const body = JSON.parse(String(init?.body));
      return fetch(url, {
        ...init,
        body: JSON.stringify(rewrite ? { ...body, protocol: 3 } : body),
      });
    };
    const device = await startTestClient(
      server.url,
      'newer-protocol',
      { aggregates: [NewMemo], token: () => token, fetch: otherProtocol },
      { tables: memoTables, projections: [newMemoList] },
    );
    clients.push(device);
    for (const id of ['p1', 'p2', 'p3']) {
      await device.strata.execute(NewMemo, id, 'write', { title: id });
    }
    const status = () =>
      new Promise<{ lastError?: { code: string; message: string }; pending: number }>((resolve) => {
        const subscription = device.sync.status.subscribe((value) => {
          subscription.unsubscribe();
          resolve(value as never);
        });
      });
    await eventually(async () =>
      expect((await status()).lastError?.code).toBe('UNSUPPORTED_PROTOCOL'),
    );
    expect((await status()).lastError?.message).toContain('speaks protocol 2');
    // A refused push (and one more when the live stream's catch-up ends), not a batch split
    // into rejected commands, nor a retry loop.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const refused = pushes;
    expect(refused).toBeLessThanOrEqual(2);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(pushes).toBe(refused);
    expect(device.rejected).toEqual([]);
    expect(await device.strata.pendingCommands()).toHaveLength(3);
    expect(await serverEvents(tenant)).toEqual([]);
    // Once both sides speak the same protocol, everything goes up.
    rewrite = false;
    device.sync.syncNow();
    await device.sync.whenSynced();
    expect((await serverEvents(tenant)).map((event) => event.aggregate_id)).toEqual([
      'p1',
      'p2',
      'p3',
    ]);
  });
});
