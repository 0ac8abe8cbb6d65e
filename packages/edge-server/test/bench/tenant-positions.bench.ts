// What dense tenant positions cost (issue 12, item 11): a tenant's appends take its position
// counter in their INSERT and hold it until COMMIT, so one tenant's concurrent appends serialize
// from the INSERT to the COMMIT (one round trip, plus append hooks). Baseline: WRITERS writers
// each appending to a tenant of its own (no contention on a counter); subject: the same writers
// all appending to one tenant. On a throwaway Postgres cluster through the Neon driver
// (tooling/bench/bench-database.ts; BENCH_TENANT_POSITIONS_DATABASE=postgres|pglite forces one).
import { NO_STREAM } from '@strata/core';
import { openBenchDatabase } from '@strata/tooling/bench/bench-database';
import { defineBenchmark } from '@strata/tooling/bench/harness';
import { migrate } from '../../src/migrations/migrations.ts';
import { createPostgresEventStore } from '../../src/postgres/postgres-event-store.ts';
import { newNote } from '../fixtures/first-note.ts';

const WRITERS = 8;
const APPENDS_PER_WRITER = 25;

const database = await openBenchDatabase('BENCH_TENANT_POSITIONS_DATABASE', WRITERS + 2);
const { db } = database;
await migrate(db);

/** Called by the runner after the benchmarks. */
export async function teardown(): Promise<void> {
  await database.close();
}

let runs = 0;
/** The tenant of each writer: its own, or one shared by all. */
const tenantsOf = (shared: boolean) => {
  const run = runs++;
  return Array.from({ length: WRITERS }, (_, writer) =>
    shared ? `bench-shared-${run}` : `bench-own-${run}-${writer}`,
  );
};

/** WRITERS concurrent writers, each appending APPENDS_PER_WRITER one-event new streams. */
async function write(tenants: readonly string[]): Promise<void> {
  await Promise.all(
    tenants.map(async (tenant, writer) => {
      const store = createPostgresEventStore(db, { tenant });
      for (let i = 0; i < APPENDS_PER_WRITER; i++) {
        await store.append({ aggregateType: 'Note', aggregateId: `w${writer}-${i}` }, [newNote()], {
          expectedVersion: NO_STREAM,
        });
      }
    }),
  );
}

async function expectDense(tenants: readonly string[]): Promise<void> {
  const { rows } = await db.query<{ count: string | number; last: string | number }>(
    `SELECT count(*) AS count, coalesce(sum(last), 0) AS last FROM strata_tenant_positions
     WHERE tenant = ANY($1::text[])`,
    [[...new Set(tenants)]],
  );
  if (Number(rows[0]?.last) !== WRITERS * APPENDS_PER_WRITER) {
    throw new Error(`numbered ${rows[0]?.last} of ${WRITERS * APPENDS_PER_WRITER}`);
  }
}

export default [
  defineBenchmark({
    name: `${WRITERS} concurrent writers, ${APPENDS_PER_WRITER} one-event appends each (${database.description})`,
    unit: 'events',
    units: WRITERS * APPENDS_PER_WRITER,
    runs: 7,
    baseline: {
      label: 'each writer in a tenant of its own',
      setup: () => tenantsOf(false),
      run: write,
      teardown: expectDense,
    },
    subject: {
      label: 'all writers in one tenant',
      setup: () => tenantsOf(true),
      run: write,
      teardown: expectDense,
    },
  }),
];
