// Issue 12 must-show: bad input on every route, against the real Node server process on real
// Postgres through the Neon driver, over ONE keep-alive connection. Every case answers a 4xx
// problem (or, for a malformed commit inside a well-formed push, a per-commit rejection: the
// client's queue must not stall on it), writes no row in any table, and the next request on the
// same socket works.
import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { PROBLEM_JSON, PushResponseSchema } from '@strata/core';
import {
  createTestDatabase,
  type Pool,
  type TestDatabase,
  testPostgres,
} from '@strata/tooling/postgres/neon';
import { bearerToken, todoEvent } from '@strata/tooling/sync/sync-client';
import { sign } from 'hono/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpawnedServer, spawnServer } from '../../test/fixtures/node/spawn-server.ts';

const SECRET = 'bad-input-secret';
const packageDir = fileURLToPath(new URL('../..', import.meta.url));

let db: TestDatabase;
let pool: Pool;
let server: SpawnedServer;
let token: string;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const sockets = new Set<Socket>();

interface Answer {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly connection: string | undefined;
  readonly body: string;
}

/** One request on the shared keep-alive agent; remembers the socket it went over. */
function send(
  method: string,
  path: string,
  options: { body?: string | Buffer; headers?: Record<string, string>; auth?: string | false } = {},
): Promise<Answer> {
  const { body, auth = token } = options;
  const headers: Record<string, string> = {
    ...(auth === false ? {} : { authorization: `Bearer ${auth}` }),
    ...(body === undefined
      ? {}
      : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }),
    ...options.headers,
  };
  return new Promise((done, fail) => {
    const req = request(new URL(path, server.url), { method, agent, headers }, (res) => {
      sockets.add(req.socket as Socket);
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () =>
        done({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'],
          connection: res.headers.connection,
          body: text,
        }),
      );
    });
    req.on('error', fail);
    req.end(body);
  });
}

/** Row counts of every table in the database, one query. */
async function rowCounts(): Promise<Record<string, number>> {
  const { rows: tables } = await pool.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
     WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const { rows } = await pool.query<{ name: string; count: string }>(
    tables
      .map(({ name }) => `SELECT '${name}' AS name, count(*) AS count FROM "${name}"`)
      .join(' UNION ALL '),
  );
  return Object.fromEntries(rows.map((row) => [row.name, Number(row.count)]));
}

const json = (value: unknown) => JSON.stringify(value);
const pushOf = (...events: unknown[]) =>
  json({ clientId: 'client-1', commits: [{ commitId: 'c1', events }] });
/** JSON text nested `depth` arrays deep. */
const nested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

type Expect = { status?: number; code?: string } | 'rejected';
interface Case {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly body?: string | Buffer;
  readonly headers?: Record<string, string>;
  readonly auth?: () => Promise<string | false>;
  readonly expect: Expect;
}

const V = 'VALIDATION_FAILED';
const cases: Case[] = [
  // POST /v1/push: the envelope is refused as a whole.
  {
    name: 'push: not JSON',
    method: 'POST',
    path: '/v1/push',
    body: '{"clientId":',
    expect: { status: 400, code: V },
  },
  {
    name: 'push: NUL in clientId',
    method: 'POST',
    path: '/v1/push',
    body: json({ clientId: 'a\u0000', commits: [{ commitId: 'c', events: [todoEvent('p1', 1)] }] }),
    expect: { status: 400, code: V },
  },
  {
    name: 'push: lone surrogate in clientId',
    method: 'POST',
    path: '/v1/push',
    body: json({ clientId: 'a\ud800', commits: [{ commitId: 'c', events: [todoEvent('p1', 1)] }] }),
    expect: { status: 400, code: V },
  },
  {
    name: 'push: NUL in commitId',
    method: 'POST',
    path: '/v1/push',
    body: json({ clientId: 'a', commits: [{ commitId: 'c\u0000', events: [todoEvent('p1', 1)] }] }),
    expect: { status: 400, code: V },
  },
  {
    name: 'push: commits not an array',
    method: 'POST',
    path: '/v1/push',
    body: json({ clientId: 'a', commits: 'many' }),
    expect: { status: 400, code: V },
  },
  {
    name: 'push: a commit id twice',
    method: 'POST',
    path: '/v1/push',
    body: json({
      clientId: 'a',
      commits: [
        { commitId: 'c', events: [todoEvent('p1', 1)] },
        { commitId: 'c', events: [todoEvent('p2', 1)] },
      ],
    }),
    expect: { status: 400, code: V },
  },
  {
    name: 'push: __proto__ key at the top',
    method: 'POST',
    path: '/v1/push',
    body: `{"__proto__":{"admin":true},"clientId":"a","commits":[{"commitId":"c","events":[${json(todoEvent('p1', 1))}]}]}`,
    expect: { status: 400, code: V },
  },
  {
    name: 'push: an oversized body (2 MB)',
    method: 'POST',
    path: '/v1/push',
    body: pushOf({ ...todoEvent('p1', 1), data: { title: 'x'.repeat(2_000_000) } }),
    expect: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  },
  {
    name: 'push: text/plain',
    method: 'POST',
    path: '/v1/push',
    body: pushOf(todoEvent('p1', 1)),
    headers: { 'content-type': 'text/plain' },
    expect: {},
  },
  {
    name: 'push: form-encoded',
    method: 'POST',
    path: '/v1/push',
    body: pushOf(todoEvent('p1', 1)),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    expect: {},
  },
  {
    name: 'push: no token',
    method: 'POST',
    path: '/v1/push',
    body: pushOf(todoEvent('p1', 1)),
    auth: async () => false,
    expect: { status: 401, code: 'UNAUTHORIZED' },
  },
  {
    name: 'push: a token without exp',
    method: 'POST',
    path: '/v1/push',
    body: pushOf(todoEvent('p1', 1)),
    auth: () => sign({ sub: 'u', tenant: 'bad-input' }, SECRET),
    expect: { status: 401, code: 'UNAUTHORIZED' },
  },
  // POST /v1/push: a malformed commit is answered per commit (200, rejected), nothing stored.
  {
    name: 'push commit: lone surrogate in data',
    method: 'POST',
    path: '/v1/push',
    body: pushOf(todoEvent('p1', 1, 'TodoAdded', { title: 'x\ud800' })),
    expect: 'rejected',
  },
  {
    name: 'push commit: lone surrogate in aggregateId',
    method: 'POST',
    path: '/v1/push',
    body: pushOf({ ...todoEvent('p1', 1), aggregateId: 'x\udbff' }),
    expect: 'rejected',
  },
  {
    name: 'push commit: NUL in data',
    method: 'POST',
    path: '/v1/push',
    body: pushOf(todoEvent('p1', 1, 'TodoAdded', { title: 'a\u0000' })),
    expect: 'rejected',
  },
  {
    name: 'push commit: NUL in a metadata key',
    method: 'POST',
    path: '/v1/push',
    body: pushOf({ ...todoEvent('p1', 1), metadata: { 'k\u0000': 1 } }),
    expect: 'rejected',
  },
  {
    name: 'push commit: occurredAt in year 0',
    method: 'POST',
    path: '/v1/push',
    body: pushOf({ ...todoEvent('p1', 1), occurredAt: '0000-01-01T00:00:00Z' }),
    expect: 'rejected',
  },
  {
    name: 'push commit: version above int4',
    method: 'POST',
    path: '/v1/push',
    body: pushOf({ ...todoEvent('p1', 1), version: 2 ** 31 }),
    expect: 'rejected',
  },
  {
    name: 'push commit: data nested 1000 deep',
    method: 'POST',
    path: '/v1/push',
    body: pushOf(todoEvent('p1', 1)).replace('"data":{', `"data":{"deep":${nested(1000)},`),
    expect: 'rejected',
  },
  {
    name: 'push commit: __proto__ key in data',
    method: 'POST',
    path: '/v1/push',
    body: pushOf(todoEvent('p1', 1)).replace('"data":{', '"data":{"__proto__":{"admin":true},'),
    expect: 'rejected',
  },
  // GET /v1/pull
  {
    name: 'pull: a bad cursor',
    method: 'GET',
    path: '/v1/pull?after=abc',
    expect: { status: 400 },
  },
  {
    name: 'pull: NUL in the cursor',
    method: 'GET',
    path: '/v1/pull?after=t1%00',
    expect: { status: 400 },
  },
  {
    name: 'pull: a huge limit',
    method: 'GET',
    path: '/v1/pull?limit=99999999999',
    expect: { status: 400, code: V },
  },
  {
    name: 'pull: limit 0',
    method: 'GET',
    path: '/v1/pull?limit=0',
    expect: { status: 400, code: V },
  },
  {
    name: 'pull: an unknown query key',
    method: 'GET',
    path: '/v1/pull?evil=%00',
    expect: { status: 400, code: V },
  },
  // GET /v1/subscribe
  {
    name: 'subscribe: a bad cursor',
    method: 'GET',
    path: '/v1/subscribe?after=..',
    expect: { status: 400 },
  },
  {
    name: 'subscribe: after and from=now',
    method: 'GET',
    path: '/v1/subscribe?after=t1&from=now',
    expect: { status: 400, code: V },
  },
  {
    name: 'subscribe: a forged Last-Event-ID',
    method: 'GET',
    path: '/v1/subscribe',
    headers: { 'last-event-id': 'x'.repeat(300) },
    expect: { status: 400 },
  },
  // GET /v1/streams/:type/:id and /events
  {
    name: 'stream: NUL in the id',
    method: 'GET',
    path: '/v1/streams/Todo/a%00b',
    expect: { status: 400, code: V },
  },
  {
    name: 'stream: NUL in the type',
    method: 'GET',
    path: '/v1/streams/To%00do/a',
    expect: { status: 400, code: V },
  },
  {
    name: 'stream: a lone surrogate as UTF-8 bytes in the id',
    method: 'GET',
    path: '/v1/streams/Todo/x%ED%A0%80',
    expect: {},
  },
  {
    name: 'stream: an id of 201 characters',
    method: 'GET',
    path: `/v1/streams/Todo/${'i'.repeat(201)}`,
    expect: { status: 400, code: V },
  },
  {
    name: 'history: fromVersion above int4',
    method: 'GET',
    path: '/v1/streams/Todo/a/events?fromVersion=2147483648',
    expect: { status: 400, code: V },
  },
  {
    name: 'history: fromVersion 0',
    method: 'GET',
    path: '/v1/streams/Todo/a/events?fromVersion=0',
    expect: { status: 400, code: V },
  },
  {
    name: 'history: a huge limit',
    method: 'GET',
    path: '/v1/streams/Todo/a/events?limit=100000',
    expect: { status: 400, code: V },
  },
  {
    name: 'history: NUL in the id',
    method: 'GET',
    path: '/v1/streams/Todo/a%00/events',
    expect: { status: 400, code: V },
  },
  // DELETE /v1/streams/:type/:id/key
  {
    name: 'forget: NUL in the id',
    method: 'DELETE',
    path: '/v1/streams/Todo/a%00/key',
    expect: { status: 400, code: V },
  },
  {
    name: 'forget: NUL in the type',
    method: 'DELETE',
    path: '/v1/streams/T%00/a/key',
    expect: { status: 400, code: V },
  },
  // /v1/groups
  {
    name: 'group: NUL in the name',
    method: 'PUT',
    path: '/v1/groups/g%00',
    body: '{}',
    expect: { status: 400, code: V },
  },
  {
    name: 'group: too many partitions',
    method: 'PUT',
    path: '/v1/groups/g1',
    body: json({ partitions: 100_000 }),
    expect: { status: 400, code: V },
  },
  {
    name: 'group: create body not JSON',
    method: 'PUT',
    path: '/v1/groups/g1',
    body: 'partitions=4',
    expect: { status: 400, code: V },
  },
  {
    name: 'claim: NUL in consumerId',
    method: 'POST',
    path: '/v1/groups/g1/claim',
    body: json({ consumerId: 'w\u0000' }),
    expect: { status: 400, code: V },
  },
  {
    name: 'claim: lone surrogate in consumerId',
    method: 'POST',
    path: '/v1/groups/g1/claim',
    body: json({ consumerId: 'w\ud800' }),
    expect: { status: 400, code: V },
  },
  {
    name: 'claim: __proto__ key',
    method: 'POST',
    path: '/v1/groups/g1/claim',
    body: '{"consumerId":"w","__proto__":{"admin":true}}',
    expect: { status: 400, code: V },
  },
  {
    name: 'claim: deep nesting',
    method: 'POST',
    path: '/v1/groups/g1/claim',
    body: `{"consumerId":"w","limit":${nested(5000)}}`,
    expect: { status: 400, code: V },
  },
  {
    name: 'claim: text/plain',
    method: 'POST',
    path: '/v1/groups/g1/claim',
    body: json({ consumerId: 'w' }),
    headers: { 'content-type': 'text/plain' },
    expect: {},
  },
  {
    name: 'ack: a bad cursor',
    method: 'POST',
    path: '/v1/groups/g1/ack',
    body: json({ consumerId: 'w', partitions: [{ partition: 0, from: '..', to: 't1' }] }),
    expect: { status: 400, code: 'INVALID_CURSOR' },
  },
  {
    name: 'nack: NUL in the error text',
    method: 'POST',
    path: '/v1/groups/g1/nack',
    body: json({ consumerId: 'w', partition: 0, from: 't1', eventId: 'e', error: 'boom\u0000' }),
    expect: { status: 400, code: V },
  },
  {
    name: 'leave: NUL in consumerId',
    method: 'POST',
    path: '/v1/groups/g1/leave',
    body: json({ consumerId: '\u0000' }),
    expect: { status: 400, code: V },
  },
  {
    name: 'parked: a huge limit',
    method: 'GET',
    path: '/v1/groups/g1/parked?limit=99999999',
    expect: {},
  },
  {
    name: 'parked: NUL in the parked id',
    method: 'DELETE',
    path: '/v1/groups/g1/parked/1%00',
    expect: { status: 400, code: V },
  },
  {
    name: 'group: an oversized body',
    method: 'POST',
    path: '/v1/groups/g1/claim',
    body: json({ consumerId: 'w', pad: 'x'.repeat(300_000) }),
    expect: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  },
];

beforeAll(async () => {
  db = await createTestDatabase('strata_bad_input');
  pool = db.createPool({ max: 1 });
  server = await spawnServer(
    process.execPath,
    ['--import', 'tsx', 'src/node/main.ts', '--port', '0'],
    {
      cwd: packageDir,
      env: {
        DATABASE_URL: db.url,
        NEON_WS_PROXY: `127.0.0.1:${testPostgres().wsProxyPort}`,
        JWT_SECRET: SECRET,
        HOST: '127.0.0.1',
      },
    },
  );
  token = await bearerToken(SECRET, 'bad-input');
  // A group to aim the consumer-group cases at, so they reach the body checks.
  const group = await send('PUT', '/v1/groups/g1', { body: json({ partitions: 2 }) });
  expect(group.status, group.body).toBe(200);
}, 60_000);

afterAll(async () => {
  agent.destroy();
  await server?.stop('SIGTERM');
  await pool?.end();
  await db?.drop();
});

describe('bad input on every route, real server on Postgres, one keep-alive connection', () => {
  it('has at least 30 cases across every route', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    for (const route of [
      '/v1/push',
      '/v1/pull',
      '/v1/subscribe',
      '/v1/streams/',
      '/key',
      '/v1/groups/',
    ]) {
      expect(
        cases.some((c) => c.path.includes(route)),
        route,
      ).toBe(true);
    }
  });

  it.each(cases)('$name', async (c) => {
    const before = await rowCounts();
    const auth = c.auth === undefined ? token : await c.auth();
    const answer = await send(c.method, c.path, {
      ...(c.body === undefined ? {} : { body: c.body }),
      ...(c.headers === undefined ? {} : { headers: c.headers }),
      auth,
    });
    if (c.expect === 'rejected') {
      expect(answer.status, answer.body).toBe(200);
      const { results } = PushResponseSchema.parse(JSON.parse(answer.body));
      expect(results).toEqual([
        expect.objectContaining({ commitId: 'c1', status: 'rejected', code: V, currentVersion: 0 }),
      ]);
    } else {
      expect(answer.status, answer.body).toBeGreaterThanOrEqual(400);
      expect(answer.status, answer.body).toBeLessThan(500);
      if (c.expect.status !== undefined) expect(answer.status, answer.body).toBe(c.expect.status);
      expect(answer.contentType).toBe(PROBLEM_JSON);
      const problem = JSON.parse(answer.body) as { code?: unknown; status?: unknown };
      expect(problem.code).toEqual(c.expect.code ?? expect.any(String));
      expect(problem.status).toBe(answer.status);
    }
    expect(answer.connection).toBe('keep-alive');
    expect(await rowCounts()).toEqual(before);
    // The next request on the same connection works.
    const next = await send('GET', '/v1/pull?limit=1');
    expect(next.status, next.body).toBe(200);
    expect(sockets.size).toBe(1);
  });

  it('stored nothing at all, and a good push still works on the same connection', async () => {
    const counts = await rowCounts();
    expect(counts.strata_events).toBe(0);
    const good = await send('POST', '/v1/push', { body: pushOf(todoEvent('ok', 1)) });
    expect(good.status, good.body).toBe(200);
    expect(PushResponseSchema.parse(JSON.parse(good.body)).results[0]?.status).toBe('accepted');
    expect((await rowCounts()).strata_events).toBe(1);
    expect(sockets.size).toBe(1);
  });
});
