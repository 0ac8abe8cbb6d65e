// Issue 16's write workloads, over real HTTP, each beside Emmett and beside the database's floor,
// all on one durable Postgres cluster (fsync, synchronous_commit and full_page_writes on; see
// tooling/postgres/cluster.ts) in the same run:
//
// - W1:   8 concurrent clients, each pushing one one-event commit per push (a new todo);
// - W1x5: the same with five events per commit (a new todo and four renames);
// - W2:   8 concurrent clients, each push 50 new aggregates of one event (50 commits);
// - W2x5: the same with five events per aggregate.
//
// Subject: the real sync server (tooling/bench/sync-server.ts: its own process, the Node edge
// server, the Neon driver through the local WebSocket proxy), `POST /v2/push` with a JWT as the
// browser client sends it (commits carrying their commands; authority `events` for Todo on the
// bench server, so the server stores the predicted events after validating them). The clients
// share one tenant per run, as devices of one team do: the tenant's position counter (held from
// an append's INSERT to its COMMIT) is the contention a real team's pushes meet.
// BENCH_W_TENANTS=per-client gives each client a tenant of its own instead (8 teams).
//
// Baseline: Emmett 0.42 (`@event-driven-io/emmett-postgresql`, tooling/bench/emmett.ts) with the
// same shape: 8 concurrent workers, each a stream per commit, `appendToStream` with
// `STREAM_DOES_NOT_EXIST` (a new stream, as strata checks version 1). Emmett appends one stream
// per call and has no multi-stream append, so a W2 "push" of 50 aggregates is 50 sequential
// `appendToStream` calls by one worker, as a server built on Emmett would handle one request
// (the commits of a push are ordered). Emmett runs in this process, as a library in a server's
// process does, over `pg` to the same cluster: no HTTP, no JSON body, no JWT on its side.
//
// Extra baseline: the database's floor for the same shape: the same 8 workers, each push one
// multi-row INSERT (autocommit) of its events into strata_events, through the Neon driver and
// the server's proxy, positions as literals (no counter, no checks, no hooks).
//
// Every side counts what it stored after every run (its teardown), so a failing side cannot
// look fast. BENCH_W_SCALE (default 1) multiplies the pushes per client.
// BENCH_W_NO_FSYNC=1 runs everything on a cluster with fsync, synchronous_commit and
// full_page_writes off instead: an extra, labelled as such, never the headline figures.
import { Pool } from '@neondatabase/serverless';
import { newKsuid } from '@strata/core';
import { configureNeonForNode } from '@strata/edge-server/node';
import {
  EMMETT_MESSAGES_TABLE,
  type EmmettEvent,
  openEmmettPeer,
} from '@strata/tooling/bench/emmett';
import { type Benchmark, defineBenchmark, type Goal, median } from '@strata/tooling/bench/harness';
import { startBenchSyncServer } from '@strata/tooling/bench/sync-server';
import { useNeonWsProxy } from '../../src/index.ts';
import { bearerToken } from './http-bench-client.ts';

const CLIENTS = 8;
const SCALE = Number(process.env.BENCH_W_SCALE ?? 1);
const TENANTS = process.env.BENCH_W_TENANTS ?? 'shared';
if (TENANTS !== 'shared' && TENANTS !== 'per-client') {
  throw new RangeError(`BENCH_W_TENANTS must be shared or per-client, got ${TENANTS}`);
}
const DURABLE = process.env.BENCH_W_NO_FSYNC !== '1';
if (!(SCALE > 0))
  throw new RangeError(`BENCH_W_SCALE must be positive, got ${process.env.BENCH_W_SCALE}`);

const server = await startBenchSyncServer({ durable: DURABLE });
const postgres = server.postgres;
if (postgres === undefined) {
  await server.stop();
  throw new Error(
    'The W benches need Postgres server binaries (Emmett runs on Postgres only): apt-get install -y postgresql',
  );
}
configureNeonForNode();
useNeonWsProxy(postgres.wsProxy);
const pool = new Pool({ connectionString: postgres.databaseUrl, max: CLIENTS + 1 });
pool.on('error', () => undefined);
const emmett = await openEmmettPeer(postgres.databaseUrl);

/**
 * What one commit costs on this cluster and disk, for the reader of the figures: the median of
 * 50 one-row autocommit INSERTs, one after the other, through the Neon driver (each waits for
 * its WAL flush when fsync and synchronous_commit are on).
 */
async function commitProbe(): Promise<string> {
  await pool.query('CREATE TABLE IF NOT EXISTS bench_commit_probe (at timestamptz NOT NULL)');
  const samples: number[] = [];
  for (let i = 0; i < 50; i++) {
    const started = performance.now();
    await pool.query('INSERT INTO bench_commit_probe (at) VALUES (now())');
    samples.push(performance.now() - started);
  }
  return `one-row autocommit INSERT, one at a time (the cost of one commit here): median ${median(samples).toFixed(2)} ms over 50`;
}
const commitCost = await commitProbe();

/** Called by the runner after the benchmarks. */
export async function teardown(): Promise<void> {
  await emmett.close();
  await pool.end();
  await server.stop();
}

const EMMETT = 'Emmett appendToStream (pg over TCP)';
const FLOOR = 'one multi-row INSERT per push (Neon driver)';

/** One workload's shape: pushes per client, aggregates per push, events per aggregate. */
interface Shape {
  readonly name: string;
  readonly what: string;
  readonly pushesPerClient: number;
  readonly aggregatesPerPush: number;
  readonly eventsPerAggregate: number;
  readonly goal: readonly Goal[];
  readonly warmupRuns: number;
}

/** One event of a new todo's history: TodoAdded, then renames. */
interface TodoEvent {
  readonly id: string;
  readonly type: 'TodoAdded' | 'TodoRenamed';
  readonly schemaVersion: number;
  readonly aggregateId: string;
  readonly version: number;
  readonly occurredAt: string;
  readonly data: { readonly title: string };
  readonly metadata: Record<string, string>;
}

/** A run's data: for each client, its pushes; each push, its aggregates; each, its events. */
type RunData = readonly (readonly (readonly (readonly TodoEvent[])[])[])[];

let runs = 0;
function runData(shape: Shape, clientId: string): { tag: string; data: RunData } {
  const tag = `w-${Date.now().toString(36)}-${runs++}`;
  const occurredAt = new Date().toISOString();
  const data = Array.from({ length: CLIENTS }, (_, client) =>
    Array.from({ length: shape.pushesPerClient }, (_, push) =>
      Array.from({ length: shape.aggregatesPerPush }, (_, index) => {
        const aggregateId = `${tag}-${client}-${push}-${index}`;
        const commandId = newKsuid();
        const metadata = { clientId, commandId, correlationId: commandId, causationId: commandId };
        return Array.from({ length: shape.eventsPerAggregate }, (_, at) => ({
          id: newKsuid(),
          type: at === 0 ? ('TodoAdded' as const) : ('TodoRenamed' as const),
          schemaVersion: at === 0 ? 2 : 1,
          aggregateId,
          version: at + 1,
          occurredAt,
          data: { title: at === 0 ? `Todo ${index}` : `Todo ${index}, take ${at + 1}` },
          metadata,
        }));
      }),
    ),
  );
  return { tag, data };
}

const eventsOf = (shape: Shape) =>
  CLIENTS * shape.pushesPerClient * shape.aggregatesPerPush * shape.eventsPerAggregate;

async function count(sql: string, params: unknown[]): Promise<number> {
  const { rows } = await pool.query<{ count: string }>(sql, params);
  return Number(rows[0]?.count);
}

function expectStored(shape: Shape, side: string, stored: number): void {
  if (stored !== eventsOf(shape)) {
    throw new Error(`${side} stored ${stored} of ${eventsOf(shape)} events`);
  }
}

/** `POST /v2/push` bodies of a run, one list per client, made before the timed part. */
interface StrataRun {
  readonly tenant: string;
  readonly tokens: readonly string[];
  readonly bodies: readonly (readonly string[])[];
}

function strataSide(shape: Shape): Benchmark['subject'] {
  return {
    label: 'strata POST /v2/push over HTTP (Node server, Neon driver)',
    setup: async (): Promise<StrataRun> => {
      const clientId = newKsuid();
      const { tag, data } = runData(shape, clientId);
      const tokens = await Promise.all(
        Array.from({ length: CLIENTS }, (_, client) =>
          bearerToken(
            server.jwtSecret,
            TENANTS === 'shared' ? tag : `${tag}-tenant-${client}`,
            `client-${client}`,
          ),
        ),
      );
      const bodies = data.map((pushes) =>
        pushes.map((aggregates) =>
          JSON.stringify({
            protocol: 2,
            clientId,
            commits: aggregates.map((events) => {
              const [first] = events as [TodoEvent];
              return {
                commitId: first.metadata.commandId,
                command: {
                  aggregateType: 'Todo',
                  aggregateId: first.aggregateId,
                  name: 'add',
                  input: first.data,
                  issuedAt: first.occurredAt,
                },
                events: events.map((event) => ({ ...event, aggregateType: 'Todo' })),
              };
            }),
          }),
        ),
      );
      return { tenant: tag, tokens, bodies };
    },
    run: ({ tokens, bodies }: StrataRun) =>
      Promise.all(
        bodies.map(async (pushes, client) => {
          for (const body of pushes) {
            const response = await fetch(new URL('v2/push', server.url), {
              method: 'POST',
              headers: {
                authorization: `Bearer ${tokens[client]}`,
                'content-type': 'application/json',
              },
              body,
            });
            if (!response.ok) {
              throw new Error(`push answered ${response.status}: ${await response.text()}`);
            }
            const { results } = (await response.json()) as { results: { status: string }[] };
            const refused = results.filter((result) => result.status !== 'accepted');
            if (refused.length > 0) {
              throw new Error(`push refused ${JSON.stringify(refused.slice(0, 2))}`);
            }
          }
        }),
      ),
    teardown: async ({ tenant }: StrataRun) =>
      expectStored(
        shape,
        'strata',
        await count(
          'SELECT count(*) AS count FROM strata_events WHERE tenant = $1 OR tenant LIKE $2',
          [tenant, `${tenant}-tenant-%`],
        ),
      ),
  };
}

interface EmmettRun {
  readonly tag: string;
  readonly streams: readonly (readonly (readonly { name: string; events: EmmettEvent[] }[])[])[];
}

function emmettSide(shape: Shape): Benchmark['baseline'] {
  return {
    label: EMMETT,
    setup: (): EmmettRun => {
      const { tag, data } = runData(shape, newKsuid());
      const streams = data.map((pushes) =>
        pushes.map((aggregates) =>
          aggregates.map((events) => ({
            name: `Todo-${(events[0] as TodoEvent).aggregateId}`,
            events: events.map(({ type, data, metadata }) => ({ type, data, metadata })),
          })),
        ),
      );
      return { tag, streams };
    },
    run: ({ streams }: EmmettRun) =>
      Promise.all(
        streams.map(async (pushes) => {
          for (const push of pushes) {
            for (const stream of push) await emmett.appendNewStream(stream.name, stream.events);
          }
        }),
      ),
    teardown: async ({ tag }: EmmettRun) =>
      expectStored(
        shape,
        'Emmett',
        await count(
          `SELECT count(*) AS count FROM ${EMMETT_MESSAGES_TABLE} WHERE stream_id LIKE $1`,
          [`Todo-${tag}-%`],
        ),
      ),
  };
}

interface FloorRun {
  readonly tenants: readonly string[];
  readonly inserts: readonly (readonly { text: string; params: unknown[] }[])[];
}

function floorSide(shape: Shape): Benchmark['baseline'] {
  return {
    label: FLOOR,
    setup: (): FloorRun => {
      const { tag, data } = runData(shape, newKsuid());
      const tenants = data.map((_, client) => `${tag}-floor-${client}`);
      const inserts = data.map((pushes, client) => {
        let position = 0;
        return pushes.map((aggregates) => {
          const params: unknown[] = [tenants[client]];
          const values = aggregates.flat().map((event) => {
            const at = params.length;
            params.push(
              event.id,
              event.type,
              event.schemaVersion,
              event.aggregateId,
              event.version,
              JSON.stringify(event.data),
              JSON.stringify(event.metadata),
              event.occurredAt,
            );
            position++;
            return `($1, 'Todo', $${at + 1}, $${at + 2}, $${at + 3}, $${at + 4}, $${at + 5}, $${at + 6}::jsonb, $${at + 7}::jsonb, $${at + 8}::timestamptz, ${position})`;
          });
          return {
            text: `INSERT INTO strata_events
              (tenant, aggregate_type, id, type, schema_version, aggregate_id, version, data, metadata, occurred_at, tenant_position)
              VALUES ${values.join(', ')}`,
            params,
          };
        });
      });
      return { tenants, inserts };
    },
    run: ({ inserts }: FloorRun) =>
      Promise.all(
        inserts.map(async (pushes) => {
          for (const { text, params } of pushes) await pool.query(text, params);
        }),
      ),
    teardown: async ({ tenants }: FloorRun) =>
      expectStored(
        shape,
        'the floor',
        await count('SELECT count(*) AS count FROM strata_events WHERE tenant = ANY($1)', [
          tenants,
        ]),
      ),
  };
}

const pushes = (base: number) => Math.max(1, Math.round(base * SCALE));
const W1_GOAL: readonly Goal[] = [{ minRatio: 1.5, against: EMMETT }];
const W2_GOAL: readonly Goal[] = [
  { minRatio: 3, against: EMMETT },
  { minRatio: 0.5, against: FLOOR },
];
const NO_GOAL: readonly Goal[] = ['none of its own (issue 16 sets goals for W1 and W2)'];

const SHAPES: readonly Shape[] = [
  {
    name: 'W1',
    what: 'one one-event commit per push',
    pushesPerClient: pushes(25),
    aggregatesPerPush: 1,
    eventsPerAggregate: 1,
    goal: W1_GOAL,
    warmupRuns: 1,
  },
  {
    name: 'W1x5',
    what: 'one five-event commit per push',
    pushesPerClient: pushes(25),
    aggregatesPerPush: 1,
    eventsPerAggregate: 5,
    goal: NO_GOAL,
    warmupRuns: 0,
  },
  {
    name: 'W2',
    what: '50 new aggregates of one event per push',
    pushesPerClient: pushes(3),
    aggregatesPerPush: 50,
    eventsPerAggregate: 1,
    goal: W2_GOAL,
    warmupRuns: 0,
  },
  {
    name: 'W2x5',
    what: '50 new aggregates of five events per push',
    pushesPerClient: pushes(2),
    aggregatesPerPush: 50,
    eventsPerAggregate: 5,
    goal: NO_GOAL,
    warmupRuns: 0,
  },
];

export default SHAPES.map((shape, index) =>
  defineBenchmark({
    name: `${shape.name}: ${CLIENTS} concurrent clients${TENANTS === 'shared' ? ' of one tenant' : ', a tenant each'}, ${shape.what}, ${shape.pushesPerClient} pushes each (${server.database}, ${DURABLE ? 'durable' : 'EXTRA: fsync off'})`,
    unit: 'events',
    units: eventsOf(shape),
    runs: 5,
    warmupRuns: shape.warmupRuns,
    baseline: emmettSide(shape),
    extraBaselines: [floorSide(shape)],
    subject: strataSide(shape),
    goal: shape.goal,
    ...(index === 0 ? { notes: () => [commitCost] } : {}),
  }),
);
