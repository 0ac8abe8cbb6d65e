import 'fake-indexeddb/auto';
import { newKsuid } from '@strata/core';
import { mulberry32, startFaultProxy } from '@strata/tooling/fault-proxy/fault-proxy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectConverged, expectNothingLost } from '../../test/fixtures/convergence.ts';
import {
  eventually,
  startTestClient,
  startTestServer,
  type TestClient,
  type TestServer,
} from '../../test/fixtures/sync-harness.ts';

let server: TestServer;
const clients: TestClient[] = [];

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await Promise.all(clients.splice(0).map((device) => device.close()));
  await server.stop();
});

/**
 * Each client adds the todos (racing: one add per todo wins, the others are rejected), then
 * renames and sometimes removes them, with short pauses so sync runs in between.
 */
async function work(
  devices: readonly TestClient[],
  todoIds: readonly string[],
  rounds: number,
  random: () => number,
) {
  let titles = 0;
  await Promise.all(
    devices.map(async (device) => {
      for (const id of todoIds) await device.command(id, 'add', { title: `${device.name} adds` });
      for (let round = 0; round < rounds; round++) {
        const id = todoIds[Math.floor(random() * todoIds.length)] as string;
        const remove = random() < 0.05;
        await device.command(id, remove ? 'remove' : 'rename', { title: `title ${titles++}` });
        await new Promise((resolve) => setTimeout(resolve, random() * 15));
      }
    }),
  );
}

describe('sync under faults', () => {
  it('drops, delays and duplicates requests and responses and cuts SSE streams: no event lost or stored twice', async () => {
    const seed = Date.now();
    const proxy = await startFaultProxy({
      target: server.url,
      seed,
      plan: {
        dropRequest: 0.1,
        dropResponse: 0.15,
        duplicateRequest: 0.15,
        maxDelayMs: 25,
        cutStreamsAfterMs: [30, 300],
      },
    });
    try {
      const devices = await Promise.all(
        ['a', 'b', 'c'].map((name) => startTestClient(proxy.url, `faulty-${name}`)),
      );
      clients.push(...devices);
      const todoIds = Array.from({ length: 4 }, () => newKsuid());
      await work(devices, todoIds, 25, mulberry32(seed));

      // Faults stay on: the clients must get through them, not wait for them to stop.
      await eventually(() => expectConverged(server, devices, new Set(todoIds)), 60_000);
      await expectNothingLost(server, devices, new Set(todoIds));
      // The run exercised every fault (with these rates and ~hundreds of requests, always).
      expect(proxy.stats.droppedRequests, `seed ${seed}`).toBeGreaterThan(0);
      expect(proxy.stats.droppedResponses, `seed ${seed}`).toBeGreaterThan(0);
      expect(proxy.stats.duplicated, `seed ${seed}`).toBeGreaterThan(0);
      expect(proxy.stats.cutStreams, `seed ${seed}`).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
  }, 90_000);

  it('resumes and converges when the server restarts mid-sync', async () => {
    const devices = await Promise.all(
      ['a', 'b'].map((name) => startTestClient(server.url, `restart-${name}`)),
    );
    clients.push(...devices);
    const todoIds = Array.from({ length: 3 }, () => newKsuid());
    const random = mulberry32(42);
    const working = work(devices, todoIds, 40, random);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const acceptedBefore = devices.map((device) => device.accepted.size);
    await server.restart(300);
    await working;

    await eventually(() => expectConverged(server, devices, new Set(todoIds)), 30_000);
    await expectNothingLost(server, devices, new Set(todoIds));
    // The restart came mid-sync: commands ran on both sides of it, and each client's live
    // subscription was cut and opened again.
    devices.forEach((device, index) => {
      expect(device.accepted.size).toBeGreaterThan(acceptedBefore[index] as number);
      const subscribes = device.network.paths.filter((path) => path === '/v1/subscribe');
      expect(subscribes.length).toBeGreaterThanOrEqual(2);
    });
  }, 60_000);
});
