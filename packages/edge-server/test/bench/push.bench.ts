// Push throughput on the server (the bottleneck of a big offline backlog, issue 5's note), on a
// throwaway Postgres cluster through the Neon driver (tooling/bench/bench-database.ts; PGlite
// without Postgres binaries; BENCH_PUSH_DATABASE=postgres|pglite forces one).
//
// A push of COMMITS one-event commits, each a new aggregate (a client that added many todos
// offline), through `applyPush` as `POST /v1/push` runs it (expected versions, idempotency,
// append hooks, notification). Baseline: the least the database can do for the same events,
// one transaction with one multi-row INSERT. The ratio is what the protocol's per-commit
// guarantees cost over that floor.
import { newKsuid, type PushRequest } from '@strata/core';
import { openBenchDatabase } from '@strata/tooling/bench/bench-database';
import { defineBenchmark } from '@strata/tooling/bench/harness';
import { applyPush } from '../../src/app/push-handler.ts';
import { migrate } from '../../src/migrations/migrations.ts';
import { createPostgresEventStore } from '../../src/postgres/postgres-event-store.ts';

const COMMITS = 200;

const database = await openBenchDatabase('BENCH_PUSH_DATABASE', 4);
const { db } = database;
await migrate(db);

/** Called by the runner after the benchmarks. */
export async function teardown(): Promise<void> {
  await database.close();
}

let runs = 0;
/** A fresh tenant and a push of COMMITS first events of new todos. */
function freshPush(): { tenant: string; push: PushRequest } {
  const tenant = `bench-${runs++}`;
  const commits = Array.from({ length: COMMITS }, (_, index) => ({
    commitId: newKsuid(),
    events: [
      {
        id: newKsuid(),
        type: 'TodoAdded',
        schemaVersion: 2,
        aggregateType: 'Todo',
        aggregateId: `todo-${index}`,
        version: 1,
        occurredAt: new Date().toISOString(),
        data: { title: `todo ${index}` },
        metadata: { commandId: `command-${index}` },
      },
    ],
  }));
  return { tenant, push: { clientId: 'bench-client', commits } };
}

async function expectAllStored(tenant: string): Promise<void> {
  const { rows } = await db.query<{ count: string | number }>(
    'SELECT count(*) AS count FROM strata_events WHERE tenant = $1',
    [tenant],
  );
  if (Number(rows[0]?.count) !== COMMITS) throw new Error(`stored ${rows[0]?.count} of ${COMMITS}`);
}

export default [
  defineBenchmark({
    name: `push of ${COMMITS} one-event commits (${database.description})`,
    unit: 'events',
    units: COMMITS,
    runs: 7,
    baseline: {
      label: 'one transaction, one multi-row INSERT',
      setup: freshPush,
      run: ({ tenant, push }: ReturnType<typeof freshPush>) =>
        db.transaction(async (tx) => {
          const params: unknown[] = [tenant];
          // Positions 1..n as literals: the floor takes no tenant counter.
          const values = push.commits.map(({ events: [event] }, index) => {
            const at = params.length;
            params.push(
              event?.id,
              event?.aggregateId,
              JSON.stringify(event?.data),
              event?.occurredAt,
            );
            return `($1, 'Todo', $${at + 2}, $${at + 1}, 'TodoAdded', 2, 1, $${at + 3}::jsonb, '{}'::jsonb, $${at + 4}::timestamptz, ${index + 1})`;
          });
          await tx.query(
            `INSERT INTO strata_events
               (tenant, aggregate_type, aggregate_id, id, type, schema_version, version, data, metadata, occurred_at, tenant_position)
             VALUES ${values.join(', ')}`,
            params,
          );
        }),
      teardown: ({ tenant }: ReturnType<typeof freshPush>) => expectAllStored(tenant),
    },
    subject: {
      label: 'applyPush (POST /v1/push)',
      setup: freshPush,
      run: async ({ tenant, push }: ReturnType<typeof freshPush>) => {
        const response = await applyPush(createPostgresEventStore(db, { tenant }), push);
        if (response.results.some((result) => result.status !== 'accepted')) {
          throw new Error('a commit was rejected');
        }
      },
      teardown: ({ tenant }: ReturnType<typeof freshPush>) => expectAllStored(tenant),
    },
  }),
];
