// Pull latency (issue 16): `GET /v1/pull?limit=1000` (the client's page, the protocol's largest)
// against a tenant holding 10k events and one holding 1M, and the first page with `count=true`
// (what a catch-up asks once, to show progress) beside the same page without it at 1M (goal:
// at most 2x).
//
// The server is the real sync app in its own process (tooling/bench/sync-server.ts) on a durable
// Postgres cluster, through the Neon driver; requests are real HTTP with a JWT, each response
// read and parsed. The histories are written straight into strata_events with SQL (pushing 1M
// events through the server would take many minutes): Todo histories of 100 events per todo,
// interleaved as many users' work is, with tenant positions 1..n and the tenant's position
// counter (strata_tenant_positions) set to n, as appends would have left them; each is checked
// through the server (`count=true` on the first page) before any timed run. Other tenants'
// events share the table, as they would on a shared server: each tenant's rows are the other's
// neighbours in every index.
//
// Pages: the first page (after `t0`) and a page from the middle of the history (after the
// tenant cursor `t<n/2>`, the documented cursor of a tenant position).
import { Pool } from '@neondatabase/serverless';
import { configureNeonForNode } from '@strata/edge-server/node';
import { defineLatencyBenchmark } from '@strata/tooling/bench/harness';
import { startBenchSyncServer } from '@strata/tooling/bench/sync-server';
import { useNeonWsProxy } from '../../src/index.ts';
import { bearerToken } from './http-bench-client.ts';

const PAGE = 1000;
const EVENTS_PER_TODO = 100;
const SMALL = 10_000;
const LARGE = Number(process.env.BENCH_PULL_EVENTS ?? 1_000_000);
const SEED_CHUNK = 100_000;

const server = await startBenchSyncServer();
const postgres = server.postgres;
if (postgres === undefined) {
  await server.stop();
  throw new Error('The pull bench needs Postgres server binaries: apt-get install -y postgresql');
}
configureNeonForNode();
useNeonWsProxy(postgres.wsProxy);
const pool = new Pool({ connectionString: postgres.databaseUrl, max: 2 });
pool.on('error', () => undefined);

/** Called by the runner after the benchmarks. */
export async function teardown(): Promise<void> {
  await pool.end();
  await server.stop();
}

/**
 * Writes `events` Todo events for `tenant` (tenant positions 1..events) in chunks, and sets the
 * tenant's position counter. Returns the seconds it took.
 */
async function seed(tenant: string, events: number): Promise<number> {
  const started = performance.now();
  const todos = Math.max(1, Math.floor(events / EVENTS_PER_TODO));
  for (let from = 1; from <= events; from += SEED_CHUNK) {
    const to = Math.min(events, from + SEED_CHUNK - 1);
    // Position p (1-based): todo (p - 1) % todos, at version (p - 1) / todos + 1.
    await pool.query(
      `INSERT INTO strata_events
         (tenant, id, type, schema_version, aggregate_type, aggregate_id, version, data, metadata,
          occurred_at, recorded_at, tenant_position)
       SELECT $1,
              'evt' || lpad(p::text, 24, '0'),
              CASE WHEN v = 1 THEN 'TodoAdded' ELSE 'TodoRenamed' END,
              CASE WHEN v = 1 THEN 2 ELSE 1 END,
              'Todo',
              'todo' || lpad(a::text, 23, '0'),
              v,
              jsonb_build_object('title', 'Todo ' || a || ', take ' || v),
              jsonb_build_object(
                'clientId', '2Qk5m7Zr0cVd9tXbYp3Lw8HsN1e',
                'commandId', 'cmd' || lpad(p::text, 24, '0'),
                'correlationId', 'cmd' || lpad(p::text, 24, '0'),
                'causationId', 'cmd' || lpad(p::text, 24, '0')),
              timestamptz '2026-01-01' + p * interval '50 milliseconds',
              timestamptz '2026-01-01' + p * interval '50 milliseconds',
              p
         FROM generate_series($2::bigint, $3::bigint) AS p,
              LATERAL (SELECT (p - 1) % $4 AS a, (p - 1) / $4 + 1 AS v) AS placed`,
      [tenant, from, to, todos],
    );
  }
  await pool.query(
    `INSERT INTO strata_tenant_positions (tenant, last) VALUES ($1, $2)
     ON CONFLICT (tenant) DO UPDATE SET last = EXCLUDED.last`,
    [tenant, events],
  );
  return (performance.now() - started) / 1000;
}

interface Page {
  readonly events: unknown[];
  readonly cursor: string;
  readonly hasMore: boolean;
  readonly remaining?: number;
}

async function pull(token: string, after: string, count: boolean): Promise<Page> {
  const query = new URLSearchParams({ after, limit: String(PAGE) });
  if (count) query.set('count', 'true');
  const response = await fetch(new URL(`v1/pull?${query}`, server.url), {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!response.ok) throw new Error(`pull answered ${response.status}: ${await response.text()}`);
  const page = (await response.json()) as Page;
  if (page.events.length !== PAGE) {
    throw new Error(`a page of ${page.events.length} events, not ${PAGE}`);
  }
  return page;
}

const run = Date.now().toString(36);
const small = { tenant: `pull-10k-${run}`, events: SMALL };
const large = { tenant: `pull-1m-${run}`, events: LARGE };
const seconds = { small: await seed(small.tenant, small.events), large: 0 };
seconds.large = await seed(large.tenant, large.events);
await pool.query('ANALYZE strata_events');
const tokens = {
  small: await bearerToken(server.jwtSecret, small.tenant),
  large: await bearerToken(server.jwtSecret, large.tenant),
};
for (const [key, history] of [
  ['small', small],
  ['large', large],
] as const) {
  const page = await pull(tokens[key], 't0', true);
  if (page.remaining !== history.events - PAGE) {
    throw new Error(
      `${history.tenant}: the server counts ${page.remaining} events after the first page, not ${history.events - PAGE}`,
    );
  }
}

const OPERATIONS = 20;
const label = (events: number) =>
  events >= 1_000_000
    ? `${(events / 1_000_000).toLocaleString('en-US')}M`
    : `${(events / 1000).toLocaleString('en-US')}k`;
const seeded = `seeded with SQL in ${seconds.small.toFixed(1)} s (${label(SMALL)}) and ${seconds.large.toFixed(1)} s (${label(LARGE)})`;
const where = `${server.database}, durable`;

const pageAt = (token: string, after: string, count = false) => ({
  operation: () => pull(token, after, count),
});

export default [
  defineLatencyBenchmark({
    name: `first pull page (${PAGE} events), ${label(LARGE)} vs ${label(SMALL)} stored events (${where})`,
    unit: 'pulls',
    operations: OPERATIONS,
    runs: 3,
    baseline: {
      label: `GET /v1/pull after t0, ${label(SMALL)} stored`,
      ...pageAt(tokens.small, 't0'),
    },
    subject: {
      label: `GET /v1/pull after t0, ${label(LARGE)} stored`,
      ...pageAt(tokens.large, 't0'),
    },
    goal: 'none set: the ratio shows how a page grows with the history',
    notes: () => [seeded],
  }),
  defineLatencyBenchmark({
    name: `pull page (${PAGE} events) from the middle of the history, ${label(LARGE)} vs ${label(SMALL)} stored events (${where})`,
    unit: 'pulls',
    operations: OPERATIONS,
    runs: 3,
    baseline: {
      label: `GET /v1/pull after t${SMALL / 2}, ${label(SMALL)} stored`,
      ...pageAt(tokens.small, `t${SMALL / 2}`),
    },
    subject: {
      label: `GET /v1/pull after t${LARGE / 2}, ${label(LARGE)} stored`,
      ...pageAt(tokens.large, `t${LARGE / 2}`),
    },
    goal: 'none set: the ratio shows how a page grows with the history',
  }),
  defineLatencyBenchmark({
    name: `first pull page (${PAGE} events) with count=true vs without, ${label(LARGE)} stored events (${where})`,
    unit: 'pulls',
    operations: OPERATIONS,
    runs: 3,
    baseline: { label: 'GET /v1/pull after t0', ...pageAt(tokens.large, 't0') },
    subject: {
      label: 'GET /v1/pull after t0 with count=true',
      ...pageAt(tokens.large, 't0', true),
    },
    goal: { maxP50Ratio: 2 },
  }),
];
