/**
 * The Node server survives its database going away in the middle of a large push (issue 12,
 * items 1, 3 and 6): a real Postgres 15 of this file's own (so it can be crashed and started
 * again) through the Neon driver, and the real CLI server as a child process.
 *
 * A: `pg_ctl stop -m immediate` during a push of 200 commits (1,000 events), held inside its
 *    write by a lock of the test's own (`stallPushAtInsert`): one transaction stores a push.
 * B: `pg_terminate_backend` of every server backend during such a push.
 * Each time: the process keeps running, `/healthz` stays 200, the push answers 503 problem+json
 * with Retry-After (or 200 when it got through first), readiness follows the database, a re-push
 * of the same body is accepted whole, and the database holds every event once, versions
 * contiguous. Finally the server's whole output is searched for the database password, the
 * bearer token and the payload marker (log redaction).
 */
import { fileURLToPath } from 'node:url';
import { neonConfig, Pool } from '@neondatabase/serverless';
import { PROBLEM_JSON } from '@strata/core';
import { type Cluster, startCluster } from '@strata/tooling/postgres/cluster';
import { startWsProxy, type WsProxy } from '@strata/tooling/postgres/ws-proxy';
import { bearerToken, commit, todoEvent } from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type SpawnedServer, spawnServer } from '../../test/fixtures/node/spawn-server.ts';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const PASSWORD = 'outage-PASSWORD-5e1b'; // trust auth ignores it: only a marker in DATABASE_URL
const MARKER = 'PAYLOAD-MARKER-c0ffee';
const SECRET = 'outage-test-jwt-secret-with-32-chars!';
const COMMITS = 200;
const EVENTS_PER_COMMIT = 5;

let cluster: Cluster;
let proxy: WsProxy;
let server: SpawnedServer;
let databaseUrl: string;
const tokens = new Map<string, string>();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A Neon driver pool of the test's own on the cluster (through the same WebSocket proxy). */
function testPool(): Pool {
  const pool = new Pool({ connectionString: databaseUrl, max: 1 });
  pool.on('error', () => undefined); // the cluster is crashed on purpose
  return pool;
}

async function tokenFor(tenant: string): Promise<string> {
  const token = tokens.get(tenant) ?? (await bearerToken(SECRET, tenant));
  tokens.set(tenant, token);
  return token;
}

/** 200 commits on 200 aggregates, 5 events each; every event's data carries the marker. */
function largePush(prefix: string) {
  const commits = Array.from({ length: COMMITS }, (_, c) =>
    commit(
      `${prefix}-commit-${c}`,
      ...Array.from({ length: EVENTS_PER_COMMIT }, (_, i) =>
        todoEvent(`${prefix}-${c}`, i + 1, i === 0 ? 'TodoAdded' : 'TodoCompleted', {
          title: `todo ${c}`,
          note: `${MARKER} ${i}`,
        }),
      ),
    ),
  );
  return { clientId: `client-${prefix}`, commits };
}

async function push(tenant: string, body: unknown): Promise<Response> {
  return fetch(`${server.url}/v1/push`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${await tokenFor(tenant)}`,
    },
    body: JSON.stringify(body),
  });
}

/**
 * Gives the server what a busy one has when the database goes: idle pooled connections (parallel
 * pulls) and a subscriber, so the feed LISTENs on a Neon Client. Their losses are reported in the
 * log, which the last test searches. Returns a function that closes the subscription.
 */
async function busyServer(tenant: string): Promise<() => void> {
  const authorization = `Bearer ${await tokenFor(tenant)}`;
  const pulls = await Promise.all(
    Array.from({ length: 4 }, () => fetch(`${server.url}/v1/pull`, { headers: { authorization } })),
  );
  for (const pull of pulls) {
    expect(pull.status).toBe(200);
    await pull.body?.cancel();
  }
  const controller = new AbortController();
  const subscription = await fetch(`${server.url}/v1/subscribe`, {
    headers: { authorization },
    signal: controller.signal,
  });
  expect(subscription.status).toBe(200);
  const reader = subscription.body?.getReader();
  // Read (and drop) whatever comes, so the stream never backs up.
  void (async () => {
    for (;;) if ((await reader?.read().catch(() => ({ done: true })))?.done !== false) return;
  })();
  return () => controller.abort();
}

/** Waits until a backend's last statement is the feed's LISTEN (neonListen came back). */
async function waitForListeningBackend(): Promise<void> {
  const pool = testPool();
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = 'LISTEN strata_events'`,
      );
      if (Number(rows[0]?.n) > 0) return;
      if (Date.now() > deadline) throw new Error('the feed did not LISTEN again within 30 s');
      await sleep(100);
    }
  } finally {
    await pool.end();
  }
}

async function stillRunning(): Promise<boolean> {
  return Promise.race([server.exited.then(() => false), sleep(100).then(() => true)]);
}

async function waitForReadiness(status: number): Promise<Response> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const response = await fetch(`${server.url}/readyz`);
    if (response.status === status || Date.now() > deadline) return response;
    await response.body?.cancel();
    await sleep(100);
  }
}

/** A push held in the middle of its write, and the backend that holds it there. */
interface StalledPush {
  /** The test's backend that holds the tenant's counter (not to be terminated). */
  readonly holder: number;
  /** Lets the push go on (or notices the holder's connection is gone). */
  release(): Promise<void>;
}

/**
 * Holds the tenant's position counter in a transaction of the test's own, starts `start` (the
 * push) and resolves once a server backend waits for that row: the push's transaction is inside
 * its INSERT (BEGIN and its reads done, nothing committed), the middle of the write, whatever the
 * speed of the server. Then the test breaks the database and releases the row.
 */
async function stallPushAtInsert(tenant: string, start: () => void): Promise<StalledPush> {
  const holderPool = testPool();
  const client = await holderPool.connect();
  client.on('error', () => undefined); // test A stops the cluster under it
  await client.query('BEGIN');
  await client.query(
    `INSERT INTO strata_tenant_positions AS counter (tenant, last) VALUES ($1, 0)
     ON CONFLICT (tenant) DO UPDATE SET last = counter.last`,
    [tenant],
  );
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const holder = Number(rows[0]?.pid);
  start();
  const watcher = testPool();
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { rows: waiting } = await watcher.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE wait_event_type = 'Lock' AND query LIKE '%strata_tenant_positions%'`,
      );
      if (Number(waiting[0]?.n) > 0) break;
      if (Date.now() > deadline) throw new Error('the push never reached its INSERT in 20 s');
      await sleep(10);
    }
  } finally {
    await watcher.end();
  }
  return {
    holder,
    release: async () => {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
      await holderPool.end().catch(() => undefined);
    },
  };
}

/**
 * The answer to a push the database dropped: 503 UNAVAILABLE problem+json with Retry-After, or
 * 200 with every commit accepted (it finished first). Returns the acknowledged event ids.
 */
async function expectOutageAnswer(
  response: Response,
  body: ReturnType<typeof largePush>,
): Promise<string[]> {
  if (response.status === 200) {
    const { results } = (await response.json()) as { results: { status: string }[] };
    expect(results.map((result) => result.status)).toEqual(body.commits.map(() => 'accepted'));
    return body.commits.flatMap((c) => c.events.map((event) => event.id));
  }
  expect(response.status).toBe(503);
  expect(response.headers.get('content-type')).toBe(PROBLEM_JSON);
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(await response.json()).toMatchObject({ code: 'UNAVAILABLE', status: 503 });
  return [];
}

/** Re-pushes the same body: every commit accepted; then the database holds each event once. */
async function expectRecovered(
  tenant: string,
  body: ReturnType<typeof largePush>,
  acknowledged: readonly string[],
): Promise<void> {
  const again = await push(tenant, body);
  expect(again.status).toBe(200);
  const { results } = (await again.json()) as { results: { status: string }[] };
  expect(results.map((result) => result.status)).toEqual(body.commits.map(() => 'accepted'));

  const pool = testPool();
  try {
    const { rows: ids } = await pool.query<{ id: string }>(
      'SELECT id FROM strata_events WHERE tenant = $1',
      [tenant],
    );
    const stored = ids.map((row) => row.id);
    expect(new Set(stored).size).toBe(stored.length); // no duplicates
    const sent = body.commits.flatMap((c) => c.events.map((event) => event.id));
    expect([...stored].sort()).toEqual([...sent].sort());
    for (const id of acknowledged) expect(stored).toContain(id);
    const { rows: streams } = await pool.query<{ aggregate_id: string; versions: number[] }>(
      `SELECT aggregate_id, array_agg(version ORDER BY version) AS versions
       FROM strata_events WHERE tenant = $1 GROUP BY aggregate_id`,
      [tenant],
    );
    expect(streams).toHaveLength(COMMITS);
    for (const stream of streams) expect(stream.versions).toEqual([1, 2, 3, 4, 5]);
  } finally {
    await pool.end();
  }
}

beforeAll(async () => {
  cluster = await startCluster({ durable: true });
  proxy = await startWsProxy({ host: '127.0.0.1', port: cluster.port });
  const url = new URL(cluster.databaseUrl);
  url.password = PASSWORD;
  databaseUrl = url.toString();
  neonConfig.webSocketConstructor = WebSocket;
  neonConfig.coalesceWrites = false;
  neonConfig.wsProxy = (host, port) => `127.0.0.1:${proxy.port}/v1?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
  server = await spawnServer(process.execPath, ['--import', 'tsx', 'src/node/main.ts'], {
    cwd: packageDir,
    env: {
      DATABASE_URL: databaseUrl,
      NEON_WS_PROXY: `127.0.0.1:${proxy.port}`,
      JWT_SECRET: SECRET,
      PORT: '0',
    },
  });
}, 60_000);

afterAll(async () => {
  await server?.stop('SIGKILL');
  await proxy?.close();
  await cluster?.stop();
});

describe('the Node server when Postgres drops its connections mid-push', () => {
  it('A: pg_ctl stop -m immediate: stays up, answers 503, readiness red then green, loses nothing', async () => {
    expect((await waitForReadiness(200)).status).toBe(200);
    const tenant = 'tenant-crash';
    const unsubscribe = await busyServer(tenant);
    const body = largePush('crash');
    let answer: Promise<Response> | undefined;
    const stalled = await stallPushAtInsert(tenant, () => {
      answer = push(tenant, body);
    });
    await cluster.stopImmediately();
    await stalled.release();

    const acknowledged = await expectOutageAnswer(await (answer as Promise<Response>), body);
    expect(acknowledged).toEqual([]); // it was stopped mid-write
    expect(await stillRunning()).toBe(true);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const down = await fetch(`${server.url}/readyz`);
    expect(down.status).toBe(503);
    expect(down.headers.get('content-type')).toBe(PROBLEM_JSON);
    expect(Number(down.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await down.json()).toMatchObject({ code: 'UNAVAILABLE' });
    // A request while the database is down fails fast and typed, not with a hang or a 500.
    const pushWhileDown = await push(tenant, body);
    expect(pushWhileDown.status).toBe(503);
    await pushWhileDown.body?.cancel();

    await cluster.startAgain();
    expect((await waitForReadiness(200)).status).toBe(200);
    expect(await stillRunning()).toBe(true);
    await expectRecovered(tenant, body, acknowledged);
    // The subscription reader's LISTEN connection died with the cluster: it listens again.
    await waitForListeningBackend();
    unsubscribe();
  }, 60_000);

  it('B: pg_terminate_backend of the server backends: stays up, answers 503 or 200, loses nothing', async () => {
    const tenant = 'tenant-terminate';
    const unsubscribe = await busyServer(tenant);
    const body = largePush('terminate');
    let answer: Promise<Response> | undefined;
    const stalled = await stallPushAtInsert(tenant, () => {
      answer = push(tenant, body);
    });
    const pool = testPool();
    let terminated = 0;
    try {
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
         WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND pid <> $1`,
        [stalled.holder],
      );
      terminated = Number(rows[0]?.n);
    } finally {
      await pool.end();
      await stalled.release();
    }
    expect(terminated).toBeGreaterThan(0);

    const acknowledged = await expectOutageAnswer(await (answer as Promise<Response>), body);
    expect(acknowledged).toEqual([]); // its connection was cut mid-write
    expect(await stillRunning()).toBe(true);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    // The database itself is up: readiness is green again as soon as a new connection is made.
    expect((await waitForReadiness(200)).status).toBe(200);
    await expectRecovered(tenant, body, acknowledged);
    unsubscribe();
  }, 60_000);

  it('wrote no password, token or payload to its output', () => {
    const output = server.output();
    expect(output).toContain('listening on'); // the output was captured at all
    expect(output).toContain('[strata] database error'); // and held the errors of the outage
    expect(output).not.toContain(PASSWORD);
    expect(output).not.toContain(MARKER);
    expect(tokens.size).toBeGreaterThan(0);
    for (const token of tokens.values()) {
      expect(output).not.toContain(token);
      expect(output).not.toContain(token.split('.')[2]); // not even the signature alone
    }
  });
});
