// The sync client's activity timeline (issue 17, devtools) against the real edge server on real
// Postgres: what a device does (leadership, catch-up pulls, the live stream, pushes and their
// answers, another device's events arriving, a lost network and its return) shows up on
// `sync.activity`, in order, each once.
import 'fake-indexeddb/auto';
import { newKsuid } from '@strata/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  startTestClient,
  startTestServer,
  type TestClient,
  type TestServer,
} from '../../test/fixtures/sync-harness.ts';
import type { SyncActivityEntry } from './sync-activity.ts';

let server: TestServer;
const clients: TestClient[] = [];

beforeAll(async () => {
  server = await startTestServer();
}, 60_000);

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
});

afterAll(async () => {
  await server?.stop();
});

/** The client's timeline, kept up to date through `sync.activity`. */
function watch(client: TestClient) {
  let latest: readonly SyncActivityEntry[] = [];
  const subscription = client.sync.activity.subscribe((entries) => {
    latest = entries;
  });
  return {
    get entries() {
      return latest;
    },
    kinds: () => latest.map((entry) => entry.kind),
    stop: () => subscription.unsubscribe(),
  };
}

describe('sync activity against a real edge server', () => {
  it('records leadership, the catch-up, the live stream, pushes and events from another device', async () => {
    const device = await startTestClient(server.url, 'activity');
    clients.push(device);
    const timeline = watch(device);
    await device.sync.whenSynced();
    await eventually(async () => expect(timeline.kinds()).toContain('connect'));
    expect(timeline.kinds().slice(0, 2)).toEqual(['leader', 'pull']);
    expect(timeline.entries[0]?.detail).toBe('this tab syncs (holds the Web Lock)');

    const id = newKsuid();
    await device.command(id, 'add', { title: 'watched' });
    await device.command(id, 'rename', { title: 'watched twice' });
    await device.sync.whenSynced();
    const pushes = timeline.entries.filter((entry) => entry.kind === 'push');
    // Two commands, pushed in one or two requests: every commit accepted, none rejected.
    const commits = pushes.map((entry) => /^(\d+) commits?: (\d+) accepted$/.exec(entry.detail));
    expect(commits.every((match) => match !== null && match[1] === match[2])).toBe(true);
    expect(commits.reduce((sum, match) => sum + Number(match?.[1]), 0)).toBe(2);

    // Another device writes: its events reach this one over the live stream.
    const other = await startTestClient(server.url, 'activity-other');
    clients.push(other);
    await other.sync.whenSynced();
    for (let i = 0; i < 3; i++) await other.command(newKsuid(), 'add', { title: `other ${i}` });
    await other.sync.whenSynced();
    await eventually(async () => {
      const live = timeline.entries.filter((entry) => entry.kind === 'live');
      // Its own two events come back live too (the server's stored versions).
      expect(live.reduce((sum, entry) => sum + (entry.count ?? 0), 0)).toBeGreaterThanOrEqual(3);
    });
    expect(timeline.kinds()).not.toContain('error');
    // seq counts up by one: nothing recorded twice, nothing dropped.
    const seqs = timeline.entries.map((entry) => entry.seq);
    expect(seqs).toEqual(seqs.map((_, index) => index + 1));
    timeline.stop();
  });

  it('records a lost network as a disconnect and failed requests, and the reconnect after it', async () => {
    const device = await startTestClient(server.url, 'activity-offline');
    clients.push(device);
    const timeline = watch(device);
    await device.sync.whenSynced();
    await eventually(async () => expect(timeline.kinds()).toContain('connect'));
    const before = timeline.entries.length;

    device.network.setOnline(false);
    const offline = newKsuid();
    await device.command(offline, 'add', { title: 'offline' });
    await eventually(async () => {
      const since = timeline.entries.slice(before);
      expect(since.map((entry) => entry.kind)).toContain('disconnect');
      expect(since.some((entry) => entry.kind === 'error' && /failed/.test(entry.detail))).toBe(
        true,
      );
    });
    device.network.setOnline(true);
    device.sync.syncNow();
    await device.sync.whenSynced();
    await eventually(async () => {
      const since = timeline.entries.slice(before).map((entry) => entry.kind);
      expect(since.lastIndexOf('connect')).toBeGreaterThan(since.indexOf('disconnect'));
      expect(since).toContain('push');
    });
    // Each failure once: the loops share a request's failure with the connection too.
    const errors = timeline.entries.filter((entry) => entry.kind === 'error');
    const details = errors.map((entry) => `${entry.at} ${entry.detail}`);
    expect(new Set(details).size).toBe(details.length);
    const stored = (await server.events()).filter((event) => event.aggregateId === offline);
    expect(stored.map((event) => event.type)).toEqual(['TodoAdded']);
    timeline.stop();
  });
});
