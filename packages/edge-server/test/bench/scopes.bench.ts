// Scoped sync's cost must follow the scope, not the tenant (issue 15): catching up a scope of
// 1,000 events inside a tenant of 1,000,000 events, against catching up the same 1,000 events in
// a tenant that holds only them. Both read by `readScopes` in pages of 100 (the pull default),
// as `POST /v2/pull` does, until the scope is caught up. The big tenant's 1,000 events are spread
// over its whole log (every 1,000th position) and its other events over 997 other scopes, so the
// index and the heap are those of a big tenant, not of a small one. Seeded with set-based SQL
// (test/fixtures/scopes/seed-scoped-tenant.ts), on a durable throwaway Postgres cluster through
// the Neon driver (tooling/bench/bench-database.ts; BENCH_SCOPES_DATABASE=postgres|pglite).
//
// Second: a live append reaching a subscriber of one scope (`GET /v2/subscribe`) against one of
// the whole tenant (`GET /v1/subscribe`), both following the 1M-event tenant from its end, woken
// by NOTIFY (one reader per instance, the scoped stream reads the scope log on each wake-up).
// The same appends on both sides (with the scope rows hook): the difference is the delivery.
//
// Third: what keeping the scope logs adds to an append (the membership fold and one more
// statement in the append's transaction): new tasks appended with and without `scopeRowsHook`.
import { PGlite } from '@electric-sql/pglite';
import { Client, Pool } from '@neondatabase/serverless';
import { ANY, NO_STREAM, readServerSentEvents, type SseMessage } from '@strata/core';
import { assignedTo, project, taskScopes } from '@strata/example-todo';
import { startBenchPostgres } from '@strata/tooling/bench/bench-database';
import { defineBenchmark, defineLatencyBenchmark } from '@strata/tooling/bench/harness';
import { singleTenant } from '../../src/app/auth.ts';
import { createSyncApp, type SyncApp } from '../../src/app/create-sync-app.ts';
import { migrate } from '../../src/migrations/migrations.ts';
import { neonDatabase } from '../../src/postgres/neon-database.ts';
import { pgliteDatabase } from '../../src/postgres/pglite-database.ts';
import { createPostgresEventStore } from '../../src/postgres/postgres-event-store.ts';
import type { SqlDatabase } from '../../src/postgres/sql-database.ts';
import { readScopes } from '../../src/scopes/read-scopes.ts';
import { scopeRowsHook } from '../../src/scopes/scope-rows-hook.ts';
import {
  type ListenSource,
  neonListen,
  pgliteListen,
} from '../../src/subscriptions/listen-source.ts';
import { created, projectKey, renamed } from '../fixtures/scopes/scoped-tasks.ts';
import { seedScopedTenant } from '../fixtures/scopes/seed-scoped-tenant.ts';

const SCOPE_EVENTS = 1_000;
const BIG_TENANT_EVENTS = 1_000_000;
const PAGE = 100;
const APPENDS = 200;
const HOT = projectKey('hot');
/** The live half's scope: its own, so the catch-up's scope stays at 1,000 events. */
const LIVE = projectKey('live');

const LIVE_APPENDS = 50;

/** The bench database and a LISTEN source on it, for the live half (bench-database.ts's choice). */
async function openDatabase(): Promise<{
  db: SqlDatabase;
  listen: ListenSource;
  description: string;
  close(): Promise<void>;
}> {
  const choice = process.env.BENCH_SCOPES_DATABASE ?? 'auto';
  if (choice !== 'auto' && choice !== 'postgres' && choice !== 'pglite') {
    throw new RangeError(`BENCH_SCOPES_DATABASE must be postgres or pglite, got ${choice}`);
  }
  const postgres = await startBenchPostgres(choice);
  if (postgres === undefined) {
    const pglite = await PGlite.create();
    return {
      db: pgliteDatabase(pglite),
      listen: pgliteListen(pglite),
      description: 'PGlite in process',
      close: () => pglite.close(),
    };
  }
  const pool = new Pool({ connectionString: postgres.databaseUrl, max: 6 });
  pool.on('error', () => undefined);
  return {
    db: neonDatabase(pool),
    listen: neonListen(() => new Client(postgres.databaseUrl)),
    description: postgres.description,
    async close() {
      await pool.end();
      await postgres.close();
    },
  };
}

const database = await openDatabase();
const { db } = database;
await migrate(db);
const seeding = performance.now();
await seedScopedTenant(db, {
  tenant: 'only-the-scope',
  events: SCOPE_EVENTS,
  hotEvery: 1,
  hotScope: HOT,
  coldScopes: 1,
});
await seedScopedTenant(db, {
  tenant: 'big',
  events: BIG_TENANT_EVENTS,
  hotEvery: BIG_TENANT_EVENTS / SCOPE_EVENTS,
  hotScope: HOT,
  coldScopes: 997,
});
await db.query('ANALYZE strata_events');
await db.query('ANALYZE strata_scope_rows');
console.log(
  `  seeded ${BIG_TENANT_EVENTS + SCOPE_EVENTS} events and scope rows in ${Math.round(performance.now() - seeding)} ms`,
);

// The live half: two apps on the database, one without scopes (v1, whole tenant), one with.
const unscopedApp = createSyncApp({
  database: db,
  authenticate: singleTenant('big'),
  listen: database.listen,
  pollIntervalMs: 60_000,
});
const scopedApp = createSyncApp({
  database: db,
  authenticate: singleTenant('big'),
  listen: database.listen,
  pollIntervalMs: 60_000,
  scopes: {
    definitions: [project, assignedTo],
    membership: [taskScopes],
    rules: { project: () => true, assignedTo: () => true },
  },
});
const liveStore = createPostgresEventStore(db, {
  tenant: 'big',
  appendHooks: [scopeRowsHook([taskScopes])],
});
await liveStore.append({ aggregateType: 'Task', aggregateId: 'live' }, [created('live', 'ann')], {
  expectedVersion: NO_STREAM,
});

/** Called by the runner after the benchmarks. */
export async function teardown(): Promise<void> {
  await unscopedApp.close();
  await scopedApp.close();
  await database.close();
}

interface Subscriber {
  readonly messages: AsyncIterator<SseMessage>;
  readonly abort: AbortController;
}

/** Subscribes from the tenant's end and reads until caught up. */
async function subscribe(app: SyncApp, path: string): Promise<Subscriber> {
  const abort = new AbortController();
  const response = await app.request(path, { signal: abort.signal });
  if (response.status !== 200)
    throw new Error(`${path}: ${response.status} ${await response.text()}`);
  const messages = readServerSentEvents(response.body as ReadableStream<Uint8Array>);
  await until(messages, (message) => message.kind === 'caught-up');
  return { messages, abort };
}

async function until(
  messages: AsyncIterator<SseMessage>,
  done: (message: { kind: string; event?: { id: string } }) => boolean,
): Promise<void> {
  for (;;) {
    const { value } = await messages.next();
    if (value === undefined) throw new Error('the subscription ended');
    if (done(JSON.parse(value.data))) return;
  }
}

const endOf = async () => (await liveStore.tail()).slice(1); // t<n>: the tenant's last position

/** One live append of the live task, timed until the subscriber has it. */
async function appendAndReceive(subscriber: Subscriber, index: number): Promise<void> {
  const event = renamed(`live ${index}`);
  await liveStore.append({ aggregateType: 'Task', aggregateId: 'live' }, [event], {
    expectedVersion: ANY,
  });
  await until(
    subscriber.messages,
    (message) => message.kind === 'event' && message.event?.id === event.id,
  );
}

/** A device's catch-up of the scope: pages until caught up; throws unless it got every event. */
async function catchUp(tenant: string): Promise<void> {
  let after: string | undefined;
  let events = 0;
  for (;;) {
    const page = await readScopes(db, tenant, [{ scope: HOT, ...(after ? { after } : {}) }], PAGE);
    events += page.items.length;
    after = page.cursors[HOT];
    if (!page.hasMore) break;
  }
  if (events !== SCOPE_EVENTS)
    throw new Error(`${tenant}: caught up ${events} events, not ${SCOPE_EVENTS}`);
}

let appendRuns = 0;
/** APPENDS new tasks, one append each, in a fresh tenant. */
async function appendTasks(withScopes: boolean): Promise<void> {
  const store = createPostgresEventStore(db, {
    tenant: `appends-${appendRuns++}`,
    appendHooks: withScopes ? [scopeRowsHook([taskScopes])] : [],
  });
  for (let i = 0; i < APPENDS; i++) {
    await store.append(
      { aggregateType: 'Task', aggregateId: `t${i}` },
      [created(`p${i % 10}`, `u${i % 7}`)],
      {
        expectedVersion: NO_STREAM,
      },
    );
  }
}

export default [
  defineBenchmark({
    name: `catch-up of a ${SCOPE_EVENTS}-event scope, pages of ${PAGE} (${database.description})`,
    unit: 'events',
    units: SCOPE_EVENTS,
    runs: 9,
    baseline: {
      label: `a tenant of only those ${SCOPE_EVENTS}`,
      run: () => catchUp('only-the-scope'),
    },
    subject: {
      label: `the same scope in a tenant of ${BIG_TENANT_EVENTS.toLocaleString('en')}`,
      run: () => catchUp('big'),
    },
    goal: { minRatio: 0.5 },
  }),
  defineLatencyBenchmark({
    name: `a live append reaching a subscriber of the ${BIG_TENANT_EVENTS.toLocaleString('en')}-event tenant (${database.description})`,
    unit: 'appends',
    operations: LIVE_APPENDS,
    runs: 5,
    baseline: {
      label: 'whole tenant, GET /v1/subscribe',
      setup: async () => subscribe(unscopedApp, `/v1/subscribe?after=t${await endOf()}`),
      operation: appendAndReceive,
      teardown: (subscriber: Subscriber) => subscriber.abort.abort(),
    },
    subject: {
      label: 'one scope, GET /v2/subscribe',
      setup: async () => {
        const end = await endOf();
        return subscribe(
          scopedApp,
          `/v2/subscribe?scope=${encodeURIComponent(LIVE)}&after=s${end}.${end}`,
        );
      },
      operation: appendAndReceive,
      teardown: (subscriber: Subscriber) => subscriber.abort.abort(),
    },
    goal: { maxP50Ratio: 2 },
  }),
  defineBenchmark({
    name: `${APPENDS} one-event appends of new tasks (${database.description})`,
    unit: 'events',
    units: APPENDS,
    runs: 5,
    baseline: { label: 'no scope logs', run: () => appendTasks(false) },
    subject: { label: 'scopeRowsHook([taskScopes])', run: () => appendTasks(true) },
    goal: 'what keeping two scopes per task costs an append',
  }),
];
