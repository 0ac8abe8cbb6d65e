import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  createTestDatabase,
  type Pool,
  type TestDatabase,
  testPostgres,
} from '@strata/tooling/postgres/neon';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SpawnedProcess, spawnProcess } from '../../test/fixtures/node/spawn-server.ts';
import { appendEvents } from '../../test/fixtures/outbox/append-events.ts';
import { migrate } from '../migrations/migrations.ts';
import { neonDatabase } from '../postgres/neon-database.ts';
import { createPostgresEventStore } from '../postgres/postgres-event-store.ts';
import { outboxWriter } from './outbox-writer.ts';
import { verifyWebhookSignature, WEBHOOK_SIGNATURE_HEADER } from './webhook-signature.ts';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = 'pg-outbox-secret';

let database: TestDatabase;
let pool: Pool;

beforeAll(async () => {
  database = await createTestDatabase('strata_outbox');
  pool = database.createPool({ max: 6 });
  await migrate(neonDatabase(pool));
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** One request as the receiver saw it. */
interface Delivery {
  readonly id: string;
  readonly relay: string;
  readonly attempt: number;
  /** A 2xx was written to a relay that was still there to read it. */
  acknowledged: boolean;
}

/**
 * The receiving end: verifies signatures and tracks which message ids are in flight (request
 * received, connection not yet closed), recording any id that arrives while already in flight.
 */
async function startReceiver(holdMs: (id: string, arrival: number) => number) {
  const inFlight = new Set<string>();
  const overlaps: string[] = [];
  const deliveries: Delivery[] = [];
  const arrivals = new Map<string, number>();
  let unverified = 0;
  let peakInFlight = 0;
  const server: Server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => {
      const { id, attempt } = JSON.parse(body) as { id: string; attempt: number };
      if (inFlight.has(id)) overlaps.push(id);
      inFlight.add(id);
      peakInFlight = Math.max(peakInFlight, inFlight.size);
      const delivery: Delivery = {
        id,
        relay: String(request.headers['x-relay']),
        attempt,
        acknowledged: false,
      };
      deliveries.push(delivery);
      const arrival = (arrivals.get(id) ?? 0) + 1;
      arrivals.set(id, arrival);
      // Over when the connection closes: answered, or given up by the relay (or its death).
      response.once('close', () => inFlight.delete(id));
      response.once('finish', () => {
        delivery.acknowledged = true;
      });
      void (async () => {
        const header = request.headers[WEBHOOK_SIGNATURE_HEADER];
        const verified = await verifyWebhookSignature({
          secret: SECRET,
          body,
          header: typeof header === 'string' ? header : undefined,
        });
        if (!verified) unverified += 1;
        await sleep(holdMs(id, arrival));
        if (!response.destroyed) response.writeHead(verified ? 200 : 401).end();
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    inFlight,
    overlaps,
    deliveries,
    unverified: () => unverified,
    peakInFlight: () => peakInFlight,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

const relays: SpawnedProcess[] = [];
afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.stop('SIGKILL')));
});

/** A relay in a child process of its own (test/fixtures/outbox/relay-process.ts). */
async function startRelayProcess(relayId: string, destination: string, receiver: Receiver) {
  const relay = spawnProcess(
    process.execPath,
    ['--experimental-websocket', '--import', 'tsx', 'test/fixtures/outbox/relay-process.ts'],
    {
      cwd: packageDir,
      env: {
        DATABASE_URL: database.url,
        NEON_WS_PROXY: `127.0.0.1:${testPostgres().wsProxyPort}`,
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET: SECRET,
        DESTINATION: destination,
        RELAY_ID: relayId,
        BATCH_SIZE: '5',
        LEASE_MS: '3000',
        DELIVERY_TIMEOUT_MS: '1500',
        POLL_MS: '50',
        BACKOFF_MS: '100',
      },
    },
  );
  relays.push(relay);
  await until(`relay ${relayId} to start`, async () => {
    const exited = await Promise.race([relay.exited.then(() => true), sleep(0).then(() => false)]);
    if (exited) throw new Error(`relay ${relayId} exited:\n${relay.output()}`);
    return relay.output().includes(`relay ${relayId} started`);
  });
  return relay;
}

/** Appends `count` events (5 per append) of a tenant whose outbox rows go to `destination`. */
async function appendMessages(destination: string, count: number): Promise<string[]> {
  const store = createPostgresEventStore(neonDatabase(pool), {
    tenant: destination,
    appendHooks: [outboxWriter([{ destination, accepts: ['Ping'] }])],
  });
  await Promise.all(
    Array.from({ length: count / 5 }, (_, index) =>
      appendEvents(store, { aggregateType: 'Pinger', aggregateId: `p-${index}` }, [
        'Ping',
        'Ping',
        'Ping',
        'Ping',
        'Ping',
      ]),
    ),
  );
  const { rows } = await pool.query<{ id: string }>(
    'SELECT id::text AS id FROM strata_outbox WHERE destination = $1 ORDER BY strata_outbox.id',
    [destination],
  );
  return rows.map((row) => row.id);
}

async function statuses(destination: string) {
  const { rows } = await pool.query<{
    id: string;
    status: string;
    attempts: number;
    locked_by: string | null;
  }>(
    'SELECT id::text AS id, status, attempts, locked_by FROM strata_outbox WHERE destination = $1 ORDER BY strata_outbox.id',
    [destination],
  );
  return rows;
}

const allDelivered = async (destination: string) =>
  (await statuses(destination)).every((row) => row.status === 'delivered');

describe('outbox relays in processes of their own, on Postgres', () => {
  it('a relay SIGKILLed mid-delivery and restarted delivers every message at least once', async () => {
    const receiver = await startReceiver(() => 40);
    try {
      const ids = await appendMessages('crash', 60);
      const first = await startRelayProcess('relay-a', 'crash', receiver);

      // Kill it mid-run: some messages acknowledged, some still being delivered.
      await until(
        'deliveries in flight after 15 acknowledged',
        () =>
          receiver.deliveries.filter((d) => d.acknowledged).length >= 15 &&
          receiver.inFlight.size > 0,
      );
      const inFlightAtKill = [...receiver.inFlight];
      expect(await first.stop('SIGKILL')).toBeNull();

      // The dead relay's claims are still held, on exactly the rows it was delivering (at least).
      const afterKill = await statuses('crash');
      const held = afterKill.filter((row) => row.locked_by?.startsWith('relay-a#'));
      expect(held.map((row) => row.id)).toEqual(expect.arrayContaining(inFlightAtKill));
      expect(held.every((row) => row.status === 'pending')).toBe(true);
      expect(afterKill.filter((row) => row.status === 'delivered').length).toBeGreaterThan(0);
      expect(afterKill.filter((row) => row.status === 'pending').length).toBeGreaterThan(0);

      const second = await startRelayProcess('relay-b', 'crash', receiver);
      await until('every message delivered', () => allDelivered('crash'));

      // None lost: every message was acknowledged by the receiver at least once.
      const acknowledged = new Set(
        receiver.deliveries.filter((d) => d.acknowledged).map((d) => d.id),
      );
      expect([...acknowledged].sort()).toEqual([...ids].sort());
      // What was in flight at the kill was delivered again, by the restarted relay, as attempt 2.
      for (const id of inFlightAtKill) {
        expect(receiver.deliveries).toContainEqual({
          id,
          relay: 'relay-b',
          attempt: 2,
          acknowledged: true,
        });
      }
      const rows = await statuses('crash');
      expect(rows.filter((row) => inFlightAtKill.includes(row.id)).map((r) => r.attempts)).toEqual(
        inFlightAtKill.map(() => 2),
      );
      expect(receiver.overlaps).toEqual([]);
      expect(receiver.unverified()).toBe(0);

      expect(await second.stop('SIGTERM'), second.output()).toBe(0);
      expect(second.output()).toContain('relay relay-b stopped');
    } finally {
      await receiver.close();
    }
  }, 60_000);

  it('two relays running at once never deliver one message twice at the same time', async () => {
    // Every twentieth message hangs on its first delivery for 4 s: past the relays' delivery timeout
    // (1.5 s) and their lease (3 s). The relay must give up before its lease ends (else the
    // other relay claims the message while it is still in flight); either relay retries it.
    const slow = (id: string) => Number(id) % 20 === 0;
    const receiver = await startReceiver((id, arrival) =>
      slow(id) && arrival === 1 ? 4_000 : 5 + Math.floor(Math.random() * 25),
    );
    try {
      await Promise.all([
        startRelayProcess('relay-c', 'pair', receiver),
        startRelayProcess('relay-d', 'pair', receiver),
      ]);
      const ids = await appendMessages('pair', 200);
      await until('every message delivered', () => allDelivered('pair'), 45_000);

      expect(receiver.overlaps).toEqual([]);
      const acknowledged = receiver.deliveries.filter((d) => d.acknowledged);
      expect(new Set(acknowledged.map((d) => d.id))).toEqual(new Set(ids));
      // Both worked, at the same time, and the slow ones were taken from a relay that gave up.
      const byRelay = (relay: string) => acknowledged.filter((d) => d.relay === relay).length;
      expect(byRelay('relay-c')).toBeGreaterThan(10);
      expect(byRelay('relay-d')).toBeGreaterThan(10);
      expect(receiver.peakInFlight()).toBeGreaterThan(5); // more than one relay's batch
      const slowIds = ids.filter(slow);
      expect(slowIds.length).toBeGreaterThan(0);
      for (const id of slowIds) {
        const attempts = receiver.deliveries.filter((d) => d.id === id);
        expect(attempts[0]?.acknowledged).toBe(false);
        expect(attempts.at(-1)).toMatchObject({ acknowledged: true, attempt: 2 });
      }
      expect(receiver.unverified()).toBe(0);
    } finally {
      await receiver.close();
    }
  }, 90_000);

  it('(control) the receiver does notice a message delivered twice at once', async () => {
    const receiver = await startReceiver(() => 200);
    try {
      const send = () =>
        fetch(receiver.url, {
          method: 'POST',
          headers: { 'x-relay': 'manual' },
          body: JSON.stringify({ id: '1', attempt: 1 }),
        });
      await Promise.all([send(), send()]);
      expect(receiver.overlaps).toEqual(['1']);
    } finally {
      await receiver.close();
    }
  });
});
