// Issue 12, item 2, client side: a command whose commit the server refuses as malformed (its
// data holds a lone surrogate, sent over the real HTTP wire to the real server on Postgres)
// must not block the pending commands. The commands before and after it are confirmed; it lands
// in the rejected list with the server's code.
import 'fake-indexeddb/auto';
import { newKsuid } from '@strata/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  startTestClient,
  startTestServer,
  type TestClient,
  type TestServer,
} from '../../test/fixtures/sync-harness.ts';
import { syncedRows } from '../../test/fixtures/synced-rows.ts';

let server: TestServer;
let device: TestClient | undefined;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await device?.close();
  await server.stop();
});

describe('a push whose middle commit the server refuses', () => {
  it('confirms the others, moves the bad command to the rejected list with its code, and the queue moves on', async () => {
    device = await startTestClient(server.url, 'bad-commit');
    device.network.setOnline(false);
    const [before, bad, after] = [newKsuid(), newKsuid(), newKsuid()];
    expect(await device.command(before, 'add', { title: 'before' })).toBe(true);
    // Fine for the local store; Postgres cannot store it faithfully, so the server refuses it.
    expect(await device.command(bad, 'add', { title: 'broken \ud800 title' })).toBe(true);
    expect(await device.command(after, 'add', { title: 'after' })).toBe(true);
    expect(await device.strata.pendingCommands()).toHaveLength(3);

    device.network.setOnline(true);
    device.sync.syncNow();
    await eventually(async () => {
      expect(await device?.strata.pendingCommands()).toEqual([]);
      expect(device?.rejected).toHaveLength(1);
    });

    const [rejected] = device.rejected;
    expect(rejected).toMatchObject({ aggregateId: bad, code: 'VALIDATION_FAILED' });
    expect(rejected?.reason).toContain('lone surrogate');
    // The server holds the other two, and only them.
    const stored = await server.events();
    expect(stored.map((event) => event.aggregateId).sort()).toEqual([before, after].sort());
    // Locally the other two are confirmed (no pending command lists them); the refused one is gone.
    const rows = await syncedRows(device.strata.db);
    expect(rows.map((row) => [row.aggregateId, row.pending]).sort()).toEqual(
      [
        [before, 0],
        [after, 0],
      ].sort(),
    );
    expect((await device.todoRows()).has(bad)).toBe(false);

    // The queue moves on: a later command syncs as usual.
    expect(await device.command(after, 'complete')).toBe(true);
    device.sync.syncNow();
    await eventually(async () => {
      expect(await device?.strata.pendingCommands()).toEqual([]);
      expect((await server.events()).map((event) => event.type)).toContain('TodoCompleted');
    });
  });
});
