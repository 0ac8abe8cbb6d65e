// What server authority (issue 14) costs, on a throwaway durable Postgres cluster (fsync on)
// through the Neon driver (tooling/bench/bench-database.ts; PGlite without Postgres binaries;
// BENCH_AUTHORITY_DATABASE=postgres|pglite forces one).
//
// 1. Push throughput over real HTTP (`POST /v2/push` to a listening Node server): a push of
//    one-command commits, half `add` on new todos and half `rename` on todos stored before the
//    push, decided by the server (authority `decide`: command log lookup, load, decide, append,
//    log row) beside the same commits stored as pushed (authority `events`: the client's events,
//    version-checked by the append). The ratio is what deciding on the server costs per event.
// 2. Deciding one command on an aggregate with 10,000 events (`SyncApp.execute`, the path of
//    `POST /v2/commands` without the HTTP around it): with no snapshot and no state cache (the
//    whole history is read and folded), against the same from a server snapshot (the snapshot
//    plus the few events after it), and against a warm state cache (no read at all).
import {
  COMMAND_PROTOCOL_VERSION,
  type CommandPushRequest,
  CommandPushResponseSchema,
  defineAggregate,
  defineEvent,
  everyNVersions,
  type NewEvent,
  NO_STREAM,
  newKsuid,
} from '@strata/core';
import { Todo } from '@strata/example-todo';
import { openBenchDatabase } from '@strata/tooling/bench/bench-database';
import { defineBenchmark, defineLatencyBenchmark } from '@strata/tooling/bench/harness';
import { z } from 'zod';
import type { Principal } from '../../src/app/auth.ts';
import { createSyncApp, type SyncApp } from '../../src/app/create-sync-app.ts';
import { migrate } from '../../src/migrations/migrations.ts';
import { createPostgresEventStore } from '../../src/postgres/postgres-event-store.ts';
import { type BenchServer, listen } from './bench-server.ts';
import { countingDatabase } from './counting-database.ts';

/** Commits per push: half adds, half renames. */
const COMMITS = 200;
/** Events of the long aggregate of part 2. */
const HISTORY = 10_000;
/** Events per seeding append: seven parameters each, under Postgres's 65,535. */
const SEED_CHUNK = 2_500;

const database = await openBenchDatabase('BENCH_AUTHORITY_DATABASE', 4);
const { db } = database;
await migrate(db);

// The tenant is the bench's to choose: one per run, so every push starts on fresh aggregates.
const authenticate = (request: Request): Principal => ({
  tenant: request.headers.get('x-bench-tenant') ?? 'bench-default',
  subject: 'bench-user',
});
const common = { database: db, authenticate, rateLimits: false as const, pollIntervalMs: 60_000 };

// Part 1's apps count their statements too (pushCounted), one probe push each, before timing.
const pushCounted = countingDatabase(db);
const decidingApp = createSyncApp({
  ...common,
  database: pushCounted.database,
  aggregates: [Todo],
});
const storingApp = createSyncApp({
  ...common,
  database: pushCounted.database,
  aggregates: [Todo],
  authority: { Todo: 'events' },
});

// --- part 2's aggregates: one counter without snapshots, one with the server's snapshots.
const Incremented = defineEvent('Incremented', z.object({ by: z.number().int() }));
const CounterState = z.object({ count: z.number().int() });
const Counter = defineAggregate({
  type: 'Counter',
  events: [Incremented],
  initialState: () => ({ count: 0 }),
  evolve: (state, event) => ({ count: state.count + event.data.by }),
}).withCommands((command) => ({
  increment: command(z.object({ by: z.number().int() }), (_state, { by }) => [
    { type: 'Incremented', data: { by } },
  ]),
}));
const SnapshottedCounter = defineAggregate({
  type: 'SnapshottedCounter',
  events: [Incremented],
  initialState: () => ({ count: 0 }),
  evolve: (state, event) => ({ count: state.count + event.data.by }),
  snapshots: { schema: CounterState, policy: everyNVersions(100) },
}).withCommands((command) => ({
  increment: command(z.object({ by: z.number().int() }), (_state, { by }) => [
    { type: 'Incremented', data: { by } },
  ]),
}));

const LOAD_TENANT = 'bench-history';
const loader: Principal = { tenant: LOAD_TENANT, subject: 'bench-user' };
const loadStore = createPostgresEventStore(db, { tenant: LOAD_TENANT });
// Part 2's apps count their statements, to show where each variant's time goes.
const counted = countingDatabase(db);
// Cold: no state kept between commands, so each one reads its aggregate from Postgres.
const coldApp = createSyncApp({
  ...common,
  database: counted.database,
  aggregates: [Counter, SnapshottedCounter],
  stateCacheSize: 0,
});
// Warm: the default cache, filled by a first command; each later one reads no events.
const warmApp = createSyncApp({
  ...common,
  database: counted.database,
  aggregates: [Counter, SnapshottedCounter],
});

/** Appends `count` increments to a new aggregate, in a few multi-row INSERTs. */
async function seedHistory(aggregateType: string, aggregateId: string, count: number) {
  const stream = { aggregateType, aggregateId };
  for (let from = 0; from < count; from += SEED_CHUNK) {
    const events: NewEvent[] = Array.from({ length: Math.min(SEED_CHUNK, count - from) }, () => ({
      id: newKsuid(),
      type: 'Incremented',
      schemaVersion: 1,
      occurredAt: new Date().toISOString(),
      data: { by: 1 },
      metadata: {},
    }));
    await loadStore.append(stream, events, { expectedVersion: from === 0 ? NO_STREAM : from });
  }
}

/** One `increment` decided by `app` (the server's clock, ids and state); checks what it stored. */
async function increment(app: SyncApp, aggregateType: string, aggregateId: string) {
  const events = await app.execute(loader, {
    commandId: newKsuid(),
    aggregateType,
    aggregateId,
    name: 'increment',
    input: { by: 1 },
  });
  if (events.length !== 1 || (events[0]?.version ?? 0) < HISTORY) {
    throw new Error(`decided ${JSON.stringify(events)}`);
  }
}

const seedStarted = performance.now();
await seedHistory('Counter', 'cold', HISTORY);
await seedHistory('Counter', 'warm', HISTORY);
// One short of HISTORY: the server's own command then stores the 10,000th event and, as
// everyNVersions(100) asks, the snapshot at 10,000 in the same transaction.
await seedHistory('SnapshottedCounter', 'snapshotted', HISTORY - 1);
await increment(coldApp, 'SnapshottedCounter', 'snapshotted');
const written = await loadStore.loadSnapshot({
  aggregateType: 'SnapshottedCounter',
  aggregateId: 'snapshotted',
});
if (written?.version !== HISTORY || (written.state as { count: number }).count !== HISTORY) {
  throw new Error(`the server wrote no snapshot at ${HISTORY}: ${JSON.stringify(written)}`);
}
console.log(
  `  seeded 3 aggregates of ${HISTORY.toLocaleString('en-US')} events in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s; the server wrote the snapshot at ${written.version.toLocaleString('en-US')}`,
);
// Statements of one command per variant (the warm cache is filled by its first command).
const statementsOf = async (work: () => Promise<void>) => {
  const before = counted.statements;
  await work();
  return counted.statements - before;
};
await increment(warmApp, 'Counter', 'warm');
const statements = {
  cold: await statementsOf(() => increment(coldApp, 'Counter', 'cold')),
  snapshot: await statementsOf(() => increment(coldApp, 'SnapshottedCounter', 'snapshotted')),
  warm: await statementsOf(() => increment(warmApp, 'Counter', 'warm')),
};
console.log(
  `  SQL statements per command (BEGIN/COMMIT included): no snapshot cold ${statements.cold}, snapshot cold ${statements.snapshot}, warm cache ${statements.warm}`,
);

const decidingServer = await listen(decidingApp);
const storingServer = await listen(storingApp);

/** Called by the runner after the benchmarks. */
export async function teardown(): Promise<void> {
  await closeAll([decidingServer, storingServer]);
  await Promise.all([decidingApp, storingApp, coldApp, warmApp].map((app) => app.close()));
  await database.close();
}

async function closeAll(servers: readonly BenchServer[]): Promise<void> {
  await Promise.all(servers.map((server) => server.close()));
}

// --- part 1: pushes.

interface PushRun {
  readonly tenant: string;
  readonly body: string;
}

let pushes = 0;
/**
 * A fresh tenant with COMMITS/2 todos stored (untimed), and a push of COMMITS commits as the
 * browser sends them, command and predicted events: `add` on new todos, `rename` on the stored.
 */
async function freshPush(): Promise<PushRun> {
  const tenant = `bench-push-${pushes++}`;
  const store = createPostgresEventStore(db, { tenant });
  const half = COMMITS / 2;
  for (let index = 0; index < half; index++) {
    await store.append(
      { aggregateType: 'Todo', aggregateId: `old-${index}` },
      [
        {
          id: newKsuid(),
          type: 'TodoAdded',
          schemaVersion: 2,
          occurredAt: new Date().toISOString(),
          data: { title: `todo ${index}` },
          metadata: {},
        },
      ],
      { expectedVersion: NO_STREAM },
    );
  }
  const now = new Date().toISOString();
  const commit = (aggregateId: string, name: 'add' | 'rename', title: string) => {
    const commitId = newKsuid();
    const version = name === 'add' ? 1 : 2;
    return {
      commitId,
      command: { aggregateType: 'Todo', aggregateId, name, input: { title }, issuedAt: now },
      events: [
        {
          id: newKsuid(),
          type: name === 'add' ? 'TodoAdded' : 'TodoRenamed',
          schemaVersion: name === 'add' ? 2 : 1,
          aggregateType: 'Todo',
          aggregateId,
          version,
          occurredAt: now,
          data: { title },
          metadata: { commandId: commitId, clientId: 'bench-client' },
        },
      ],
    };
  };
  const push: CommandPushRequest = {
    protocol: COMMAND_PROTOCOL_VERSION,
    clientId: 'bench-client',
    commits: Array.from({ length: COMMITS }, (_, index) =>
      index % 2 === 0
        ? commit(`new-${index}`, 'add', `todo ${index}`)
        : commit(`old-${(index - 1) / 2}`, 'rename', `renamed ${index}`),
    ),
  };
  return { tenant, body: JSON.stringify(push) };
}

async function postPush(server: BenchServer, { tenant, body }: PushRun): Promise<void> {
  const response = await fetch(`${server.url}/v2/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-bench-tenant': tenant },
    body,
  });
  if (!response.ok) throw new Error(`push answered ${response.status}: ${await response.text()}`);
  const answer = CommandPushResponseSchema.parse(await response.json());
  const rejected = answer.results.find((result) => result.status !== 'accepted');
  if (rejected !== undefined) throw new Error(`a commit was rejected: ${JSON.stringify(rejected)}`);
}

/** Every commit stored one event: the seeded todos plus one per commit. */
async function expectPushStored({ tenant }: PushRun): Promise<void> {
  const { rows } = await db.query<{ count: string | number }>(
    'SELECT count(*) AS count FROM strata_events WHERE tenant = $1',
    [tenant],
  );
  const expected = COMMITS / 2 + COMMITS;
  if (Number(rows[0]?.count) !== expected) {
    throw new Error(`stored ${rows[0]?.count} of ${expected} events`);
  }
}

/** Statements per commit of one probe push to `server` (untimed; not a sample). */
async function statementsPerCommit(server: BenchServer): Promise<number> {
  const run = await freshPush();
  const before = pushCounted.statements;
  await postPush(server, run);
  const statements = pushCounted.statements - before;
  await expectPushStored(run);
  return statements / COMMITS;
}
console.log(
  `  SQL statements per commit of a push (BEGIN/COMMIT included): authority events ${await statementsPerCommit(storingServer)}, decide ${await statementsPerCommit(decidingServer)}\n`,
);

// --- part 2: one command on a 10k-event aggregate.

/** Samples per run; every one is one command, timed on its own. */
const COMMANDS_PER_RUN = 5;

const noSnapshotCold = {
  label: 'no snapshot, cold state cache',
  operation: () => increment(coldApp, 'Counter', 'cold'),
};

/** The server keeps the snapshot within everyNVersions(100) of the stream's tip as it decides. */
async function expectSnapshots(): Promise<void> {
  const stream = { aggregateType: 'SnapshottedCounter', aggregateId: 'snapshotted' };
  const [snapshot, version] = await Promise.all([
    loadStore.loadSnapshot(stream),
    loadStore.streamVersion(stream),
  ]);
  if (snapshot === undefined || snapshot.version < HISTORY || version - snapshot.version >= 100) {
    throw new Error(`snapshot ${JSON.stringify(snapshot)} at stream version ${version}`);
  }
}

export default [
  defineBenchmark({
    name: `push of ${COMMITS} one-command commits over HTTP, POST /v2/push (${database.description})`,
    unit: 'events',
    units: COMMITS,
    runs: 5,
    baseline: {
      label: "authority events (client's events stored)",
      setup: freshPush,
      run: (run: PushRun) => postPush(storingServer, run),
      teardown: expectPushStored,
    },
    subject: {
      label: 'authority decide (server decides each command)',
      setup: freshPush,
      run: (run: PushRun) => postPush(decidingServer, run),
      teardown: expectPushStored,
    },
  }),
  defineLatencyBenchmark({
    name: `one command on a ${HISTORY.toLocaleString('en-US')}-event aggregate, from a server snapshot (everyNVersions(100))`,
    unit: 'commands',
    operations: COMMANDS_PER_RUN,
    runs: 7,
    baseline: noSnapshotCold,
    subject: {
      label: 'snapshot + events after it, cold state cache',
      operation: () => increment(coldApp, 'SnapshottedCounter', 'snapshotted'),
      teardown: expectSnapshots,
    },
  }),
  defineLatencyBenchmark({
    name: `one command on a ${HISTORY.toLocaleString('en-US')}-event aggregate, from a warm state cache`,
    unit: 'commands',
    operations: COMMANDS_PER_RUN,
    runs: 7,
    baseline: noSnapshotCold,
    subject: {
      label: 'no snapshot, warm state cache',
      operation: () => increment(warmApp, 'Counter', 'warm'),
    },
  }),
];
