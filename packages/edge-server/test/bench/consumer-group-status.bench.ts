// Consumer-group status on a tenant of 39,000 events (issue 12, item 5), on a throwaway Postgres
// cluster through the Neon driver (tooling/bench/bench-database.ts). Baseline: the status query
// before the fix, a count(*) per partition over every event after its checkpoint (a group of
// 1,024 partitions took 11.5 s to create, as creating answers with the status). Subject:
// `consumerGroupStatus`, one index range scan of at most 10,000 events (lag "at least" beyond).
// The baseline is run on 64 partitions (the HTTP limit) to keep the bench short; its cost grows
// with partitions x events, the subject's with neither.
import { newKsuid } from '@strata/core';
import { openBenchDatabase } from '@strata/tooling/bench/bench-database';
import { defineBenchmark } from '@strata/tooling/bench/harness';
import { consumerGroupStatus } from '../../src/consumer-groups/consumer-group-admin.ts';
import {
  ensureConsumerGroup,
  partitionExpression,
} from '../../src/consumer-groups/consumer-group-definition.ts';
import { migrate } from '../../src/migrations/migrations.ts';

const AGGREGATES = 1000;
const PER_AGGREGATE = 39;
const TENANT = 'bench-status';
const PARTITIONS = 64;

const database = await openBenchDatabase('BENCH_CONSUMER_GROUP_DATABASE', 4);
const { db } = database;
await migrate(db);
for (let version = 1; version <= PER_AGGREGATE; version++) {
  await db.query(
    `INSERT INTO strata_events
       (tenant, aggregate_type, aggregate_id, id, type, schema_version, version, data, metadata,
        occurred_at, tenant_position)
     SELECT $1, 'Note', aggregate_id, id, 'Noted', 1, $2, '{}'::jsonb, '{}'::jsonb, now(),
       ($2 - 1) * ${AGGREGATES} + ordinal
     FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS seed(aggregate_id, id, ordinal)`,
    [
      TENANT,
      version,
      Array.from({ length: AGGREGATES }, (_, index) => `note-${index}`),
      Array.from({ length: AGGREGATES }, () => newKsuid()),
    ],
  );
}
await db.query('ANALYZE strata_events');
const group = await ensureConsumerGroup(
  db,
  { name: 'status', tenant: TENANT },
  { partitions: PARTITIONS },
);

/** Called by the runner after the benchmarks: stops the cluster and proxy. */
export async function teardown(): Promise<void> {
  await database.close();
}

export default [
  defineBenchmark({
    name: `consumer-group status, ${PARTITIONS} partitions, ${AGGREGATES * PER_AGGREGATE} events behind: bounded scan vs count per partition`,
    unit: 'status calls',
    units: 1,
    runs: 5,
    baseline: {
      label: 'count(*) per partition (before)',
      run: () =>
        db.query(
          `SELECT p.partition,
             (SELECT count(*) FROM strata_events e
              WHERE (e.transaction_id, e.position) > (p.checkpoint_transaction_id, p.checkpoint_position)
                AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
                AND ${partitionExpression('e', '$2::integer')} = p.partition
                AND e.tenant = $3) AS lag
           FROM strata_consumer_group_partitions p WHERE p.group_id = $1`,
          [group.id, PARTITIONS, TENANT],
        ),
    },
    subject: { label: 'consumerGroupStatus', run: () => consumerGroupStatus(db, group) },
    goal: { minRatio: 5 },
  }),
];
