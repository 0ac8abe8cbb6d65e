// Consumer-group throughput with 1, 2 and 4 consumers (issue 7), on a throwaway Postgres cluster
// reached through the Neon driver (tooling/bench/bench-database.ts); without Postgres server
// binaries, PGlite (one connection: consumers then cannot run in parallel, so the ratios say little).
//
// Each run drains EVENTS events (AGGREGATES aggregates, interleaved) through a fresh group of 16
// partitions, batches of 100. Two handler costs: one INSERT into a table (what a projection or an
// outbox write costs; on a small machine this is CPU-bound, as Postgres, the proxy and all
// consumers share its cores), and a 3 ms external call before the INSERT (an email, a webhook:
// waiting that consumers can overlap). The consumers join the group in the untimed set-up (steady
// state, not start-up rebalancing), and all run in this process. Baselines: the plain no-skip
// reader (`readGlobalOrder` pages of 100, the same handler, one at a time), and the 1-consumer
// group.
import { newKsuid } from '@strata/core';
import { openBenchDatabase } from '@strata/tooling/bench/bench-database';
import { defineBenchmark, type Workload } from '@strata/tooling/bench/harness';
import { createConsumerGroup } from '../../src/consumer-groups/consumer-group.ts';
import { ensureConsumerGroup } from '../../src/consumer-groups/consumer-group-definition.ts';
import { renewLeases } from '../../src/consumer-groups/consumer-membership.ts';
import { migrate } from '../../src/migrations/migrations.ts';
import { readGlobalOrder } from '../../src/postgres/postgres-event-store.ts';

const AGGREGATES = 100;
const PER_AGGREGATE = Number(process.env.BENCH_CONSUMER_GROUP_EVENTS_PER_AGGREGATE ?? 20);
const EVENTS = AGGREGATES * PER_AGGREGATE;
const TENANT = 'bench';
const PARTITIONS = 16;
const BATCH = 100;

const cleanups: (() => Promise<unknown>)[] = [];

const database = await openBenchDatabase('BENCH_CONSUMER_GROUP_DATABASE', 20);
cleanups.push(() => database.close());
const { db, description } = database;
await migrate(db);
await db.query(
  'CREATE TABLE bench_handled (event_id text NOT NULL, handled_by text NOT NULL, at timestamptz NOT NULL DEFAULT now())',
);
// Seeded once: version by version across the aggregates, one INSERT per version round.
for (let version = 1; version <= PER_AGGREGATE; version++) {
  await db.query(
    `INSERT INTO strata_events
       (tenant, aggregate_type, aggregate_id, id, type, schema_version, version, data, metadata, occurred_at)
     SELECT $1, 'Note', aggregate_id, id, 'Noted', 1, $2, '{}'::jsonb, '{}'::jsonb, now()
     FROM unnest($3::text[], $4::text[]) AS seed(aggregate_id, id)`,
    [
      TENANT,
      version,
      Array.from({ length: AGGREGATES }, (_, index) => `note-${index}`),
      Array.from({ length: AGGREGATES }, () => newKsuid()),
    ],
  );
}

/** Called by the runner after the benchmarks: stops the cluster and proxy. */
export async function teardown(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

/** The handler's cost: one INSERT. */
const handle = (eventId: string, by: string) =>
  db.query('INSERT INTO bench_handled (event_id, handled_by) VALUES ($1, $2)', [eventId, by]);

let runs = 0;

/** What handling an event costs: one INSERT, or an INSERT after a 3 ms external call (an email, a webhook). */
type HandlerCost = 'insert' | 'call';
const EXTERNAL_CALL_MS = 3;
const handleWith = async (cost: HandlerCost, eventId: string, by: string) => {
  if (cost === 'call') await new Promise((resolve) => setTimeout(resolve, EXTERNAL_CALL_MS));
  await handle(eventId, by);
};

function groupWorkload(
  consumers: number,
  cost: HandlerCost = 'insert',
): Workload<{ group: string }> {
  return {
    label: `consumer group, ${consumers} consumer${consumers === 1 ? '' : 's'} (${description})`,
    async setup() {
      const group = `bench-${runs++}`;
      const stored = await ensureConsumerGroup(
        db,
        { name: group, tenant: TENANT },
        { partitions: PARTITIONS },
      );
      for (let index = 0; index < consumers; index++) {
        await renewLeases(db, stored, `c${index}`);
      }
      return { group };
    },
    async run({ group }) {
      let handled = 0;
      let done: () => void = () => undefined;
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      const running = Array.from({ length: consumers }, (_, index) =>
        createConsumerGroup({
          database: db,
          group,
          tenant: TENANT,
          consumerId: `c${index}`,
          partitions: PARTITIONS,
          batchSize: BATCH,
          idleMs: 5,
          handler: async (event) => {
            await handleWith(cost, event.id, `c${index}`);
            if (++handled === EVENTS) done();
          },
        }),
      );
      for (const consumer of running) consumer.start();
      await finished;
      await Promise.all(running.map((consumer) => consumer.stop()));
      if (handled !== EVENTS) throw new Error(`handled ${handled} of ${EVENTS} events`);
    },
  };
}

const plainReader: Workload = {
  label: `readGlobalOrder pages of ${BATCH}, same handler (${description})`,
  async run() {
    let after: string | undefined;
    let handled = 0;
    for (;;) {
      const page = await readGlobalOrder(db, {
        tenant: TENANT,
        limit: BATCH,
        ...(after === undefined ? {} : { after }),
      });
      for (const event of page.events) {
        await handle(event.id, 'reader');
        handled++;
      }
      after = page.cursor;
      if (!page.hasMore) break;
    }
    if (handled !== EVENTS) throw new Error(`read ${handled} of ${EVENTS} events`);
  },
};

const common = { unit: 'events', units: EVENTS, runs: 5 } as const;

export default [
  defineBenchmark({
    ...common,
    name: 'consumer group, 1 consumer vs the plain no-skip reader (handler: one INSERT)',
    baseline: plainReader,
    subject: groupWorkload(1),
    goal: 'the group machinery (leases, per-partition checkpoints) costs little over a plain read',
  }),
  // With a handler this cheap, the work is bound by CPU on a small machine (Postgres, the
  // WebSocket proxy and all consumers share its cores): more consumers add little here.
  ...[2, 4].map((consumers) =>
    defineBenchmark({
      ...common,
      name: `consumer group, ${consumers} consumers vs 1 (handler: one INSERT)`,
      baseline: groupWorkload(1),
      subject: groupWorkload(consumers),
      goal: 'bound by CPU here; see the external-call variant for what consumers share',
    }),
  ),
  // A handler that waits on something else (here a 3 ms call) is what consumers are for.
  ...[2, 4].map((consumers) =>
    defineBenchmark({
      ...common,
      name: `consumer group, ${consumers} consumers vs 1 (handler: ${EXTERNAL_CALL_MS} ms external call + one INSERT)`,
      baseline: groupWorkload(1, 'call'),
      subject: groupWorkload(consumers, 'call'),
      goal: { minRatio: consumers === 2 ? 1.5 : 2.5 },
    }),
  ),
];
