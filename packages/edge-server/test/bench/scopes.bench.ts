// Scoped sync's cost must follow the scope, not the tenant (issue 15): catching up a scope of
// 1,000 events inside a tenant of 1,000,000 events, against catching up the same 1,000 events in
// a tenant that holds only them. Both read by `readScopes` in pages of 100 (the pull default),
// as `POST /v2/pull` does, until the scope is caught up. The big tenant's 1,000 events are spread
// over its whole log (every 1,000th position) and its other events over 997 other scopes, so the
// index and the heap are those of a big tenant, not of a small one. Seeded with set-based SQL
// (test/fixtures/scopes/seed-scoped-tenant.ts), on a durable throwaway Postgres cluster through
// the Neon driver (tooling/bench/bench-database.ts; BENCH_SCOPES_DATABASE=postgres|pglite).
//
// Second: what keeping the scope logs adds to an append (the membership fold and one more
// statement in the append's transaction): new tasks appended with and without `scopeRowsHook`.
import { NO_STREAM } from '@strata/core';
import { taskScopes } from '@strata/example-todo';
import { openBenchDatabase } from '@strata/tooling/bench/bench-database';
import { defineBenchmark } from '@strata/tooling/bench/harness';
import { migrate } from '../../src/migrations/migrations.ts';
import { createPostgresEventStore } from '../../src/postgres/postgres-event-store.ts';
import { readScopes } from '../../src/scopes/read-scopes.ts';
import { scopeRowsHook } from '../../src/scopes/scope-rows-hook.ts';
import { created, projectKey } from '../fixtures/scopes/scoped-tasks.ts';
import { seedScopedTenant } from '../fixtures/scopes/seed-scoped-tenant.ts';

const SCOPE_EVENTS = 1_000;
const BIG_TENANT_EVENTS = 1_000_000;
const PAGE = 100;
const APPENDS = 200;
const HOT = projectKey('hot');

const database = await openBenchDatabase('BENCH_SCOPES_DATABASE', 4);
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

/** Called by the runner after the benchmarks. */
export async function teardown(): Promise<void> {
  await database.close();
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
