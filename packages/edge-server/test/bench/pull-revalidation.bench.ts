// Pull revalidation (issue 18, docs/production.md): a full `GET /v1/pull?limit=1000` page below
// the no-skip horizon carries a strong ETag (src/app/pull-cache.ts); asked again with
// `If-None-Match`, the server answers 304 with no body. Subject: that 304 round trip; baseline:
// the 200 with the page, read and parsed, as a client without the page cached gets it. The
// server still reads and hashes the page for a 304 (the ETag is of the content, so that it stays
// right after a restore, a forget or a revoked read): the difference is the body on the wire and
// its parse, not the database work. Notes: the 200's body size and the cost of the hash alone.
//
// The server is the real sync app in its own process (tooling/bench/sync-server.ts) on a durable
// Postgres cluster, through the Neon driver; 10k Todo events written straight with SQL, as
// pull.bench.ts does.
import { Pool } from '@neondatabase/serverless';
import { configureNeonForNode } from '@strata/edge-server/node';
import { defineLatencyBenchmark } from '@strata/tooling/bench/harness';
import { startBenchSyncServer } from '@strata/tooling/bench/sync-server';
import { strongEtag } from '../../src/app/pull-cache.ts';
import { useNeonWsProxy } from '../../src/index.ts';
import { bearerToken } from './http-bench-client.ts';

const PAGE = 1000;
const EVENTS = 10_000;

const server = await startBenchSyncServer();
const postgres = server.postgres;
if (postgres === undefined) {
  await server.stop();
  throw new Error('The pull revalidation bench needs Postgres server binaries');
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

const tenant = `revalidate-${Date.now().toString(36)}`;
await pool.query(
  `INSERT INTO strata_events
     (tenant, id, type, schema_version, aggregate_type, aggregate_id, version, data, metadata,
      occurred_at, recorded_at, tenant_position)
   SELECT $1, 'evt' || lpad(p::text, 24, '0'), 'TodoAdded', 2, 'Todo',
          'todo' || lpad(p::text, 23, '0'), 1,
          jsonb_build_object('title', 'Todo ' || p),
          jsonb_build_object('clientId', '2Qk5m7Zr0cVd9tXbYp3Lw8HsN1e',
            'commandId', 'cmd' || lpad(p::text, 24, '0')),
          timestamptz '2026-01-01' + p * interval '50 milliseconds',
          timestamptz '2026-01-01' + p * interval '50 milliseconds', p
     FROM generate_series(1, $2::bigint) AS p`,
  [tenant, EVENTS],
);
await pool.query('INSERT INTO strata_tenant_positions (tenant, last) VALUES ($1, $2)', [
  tenant,
  EVENTS,
]);
const token = await bearerToken(server.jwtSecret, tenant);
const url = new URL(`v1/pull?after=t${EVENTS / 2}&limit=${PAGE}`, server.url);

const first = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
const etag = first.headers.get('etag');
const body = await first.text();
if (etag === null) throw new Error('a full page below the horizon came without an ETag');
for (let i = 0; i < 5; i++) await strongEtag(body); // warm, as a serving process is
const hashStarted = performance.now();
for (let i = 0; i < 20; i++) await strongEtag(body);
const hashMs = (performance.now() - hashStarted) / 20;

export default [
  defineLatencyBenchmark({
    name: `pull page (${PAGE} events) revalidated with If-None-Match (304) vs read in full (200) (${server.database}, durable)`,
    unit: 'pulls',
    operations: 20,
    runs: 3,
    baseline: {
      label: 'GET /v1/pull: 200, body read and parsed',
      operation: async () => {
        const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
        const page = (await response.json()) as { events: unknown[] };
        if (response.status !== 200 || page.events.length !== PAGE) throw new Error('not a page');
      },
    },
    subject: {
      label: 'GET /v1/pull with If-None-Match: 304, no body',
      operation: async () => {
        const response = await fetch(url, {
          headers: { authorization: `Bearer ${token}`, 'if-none-match': etag },
        });
        if (response.status !== 304 || (await response.text()) !== '') throw new Error('not a 304');
      },
    },
    goal: 'informational: what a cached page saves a client that asks again',
    notes: () => [
      `the 200's body: ${(body.length / 1024).toFixed(0)} KiB of JSON; the 304 sends none`,
      `SHA-256 ETag of that body alone: ${hashMs.toFixed(2)} ms (paid by every full page, 200 or 304)`,
    ],
  }),
];
