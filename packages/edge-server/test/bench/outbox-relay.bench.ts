// Outbox relay throughput (issue 7), on a throwaway Postgres cluster through the Neon driver and
// the local WebSocket proxy (as the pg test tier), or PGlite in process when no Postgres server
// binaries are installed (BENCH_OUTBOX_DATABASE=postgres|pglite forces one).
//
// 1. relay vs a bare queue loop: drain 2,000 pending messages in batches of 100 with a sink that
//    does nothing. Baseline: the least SQL a SKIP LOCKED queue consumer needs for the same work,
//    two statements per batch (claim: UPDATE ... FROM (SELECT ... FOR UPDATE SKIP LOCKED LIMIT
//    100) RETURNING the event; ack: UPDATE ... SET status = 'delivered' WHERE id = ANY(...)),
//    with no lease expiry, attempts, timeouts, backoff, per-message outcomes or decryption step.
//    The ratio is what the relay's bookkeeping costs over that floor.
// 2. webhook relay vs plain fetch: the same drain through `webhookSink` to a local node:http
//    receiver. Baseline: the same message bodies POSTed with plain fetch, 100 at a time, with no
//    database and no signature: the ratio is what the outbox costs over the HTTP calls alone.
// 3. the writer's cost on the append path: 500 appends of 2 events each, one after the other,
//    with and without `outboxWriter` (both events routed).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NO_STREAM, newKsuid } from '@strata/core';
import { openBenchDatabase } from '@strata/tooling/bench/bench-database';
import { defineBenchmark } from '@strata/tooling/bench/harness';
import { migrate } from '../../src/migrations/migrations.ts';
import { createOutboxRelay } from '../../src/outbox/outbox-relay.ts';
import { outboxWriter } from '../../src/outbox/outbox-writer.ts';
import { webhookSink } from '../../src/outbox/webhook-sink.ts';
import { createPostgresEventStore } from '../../src/postgres/postgres-event-store.ts';

const MESSAGES = 2_000;
const BATCH = 100;
const APPENDS = 500;

const database = await openBenchDatabase('BENCH_OUTBOX_DATABASE', 4);
const { db } = database;
await migrate(db);

// A receiver that answers every POST with 204 once it read the body.
const receiver = createServer((request, response) => {
  request.resume();
  request.on('end', () => response.writeHead(204).end());
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

/** Called by the runner after the benchmarks. */
export async function teardown(): Promise<void> {
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
  await database.close();
}

// An event as an append stores it (~400 bytes of JSON), one per message.
const storedEvent = (index: number) => ({
  id: newKsuid(),
  type: 'OrderPlaced',
  schemaVersion: 1,
  aggregateType: 'Order',
  aggregateId: `order-${index}`,
  version: 1,
  occurredAt: new Date().toISOString(),
  recordedAt: new Date().toISOString(),
  position: index + 1,
  cursor: `1000.${index + 1}`,
  tenant: 'bench',
  data: {
    customer: `customer-${index % 97}`,
    lines: [{ sku: 'SKU-1', quantity: 2 }],
    total: 4_200,
  },
  metadata: { correlationId: newKsuid(), actor: 'bench-user' },
});
const events = Array.from({ length: MESSAGES }, (_, index) => storedEvent(index));

/** Untimed: an outbox of exactly MESSAGES pending messages for `destination`. */
async function fillOutbox(destination: string): Promise<void> {
  await db.query('TRUNCATE strata_outbox');
  await db.query(
    `INSERT INTO strata_outbox (destination, tenant, event_id, event)
     SELECT $1, 'bench', e.event->>'id', e.event
     FROM unnest($2::text[]) AS row (json), LATERAL (SELECT json::jsonb AS event) AS e`,
    [destination, events.map((event) => JSON.stringify(event))],
  );
}

async function expectDrained(destination: string): Promise<void> {
  const { rows } = await db.query<{ left: string | number }>(
    `SELECT count(*) AS left FROM strata_outbox WHERE destination = $1 AND status <> 'delivered'`,
    [destination],
  );
  if (Number(rows[0]?.left) !== 0) throw new Error(`${rows[0]?.left} messages left undelivered`);
}

/** The baseline queue consumer: claim a batch, hand it on, mark it delivered; until empty. */
async function bareQueueDrain(deliver: (events: readonly unknown[]) => Promise<void>) {
  for (;;) {
    const { rows } = await db.query<{ id: string | number; event: unknown }>(
      `UPDATE strata_outbox AS o SET locked_by = 'bare', locked_until = now() + interval '30 s',
              attempts = o.attempts + 1
       FROM (SELECT id FROM strata_outbox WHERE status = 'pending' ORDER BY next_attempt_at, id
             LIMIT $1 FOR UPDATE SKIP LOCKED) AS due
       WHERE o.id = due.id
       RETURNING o.id, o.event`,
      [BATCH],
    );
    if (rows.length === 0) return;
    await deliver(rows.map((row) => row.event));
    await db.query(
      `UPDATE strata_outbox SET status = 'delivered', delivered_at = now(), locked_by = NULL,
              locked_until = NULL WHERE id = ANY($1::bigint[])`,
      [rows.map((row) => String(row.id))],
    );
  }
}

async function relayDrain(sink: Parameters<typeof createOutboxRelay>[0]['sinks'][string]) {
  const relay = createOutboxRelay({ database: db, sinks: { bench: sink }, batchSize: BATCH });
  while ((await relay.runOnce()).claimed > 0);
}

const where = database.description;

export default [
  defineBenchmark({
    name: `outbox relay, no-op sink (${where})`,
    unit: 'messages',
    units: MESSAGES,
    runs: 5,
    baseline: {
      label: 'bare SKIP LOCKED claim + ack loop',
      setup: () => fillOutbox('bench'),
      run: () => bareQueueDrain(async () => undefined),
      teardown: () => expectDrained('bench'),
    },
    subject: {
      label: `relay.runOnce() x ${MESSAGES / BATCH}, batches of ${BATCH}`,
      setup: () => fillOutbox('bench'),
      run: () => relayDrain(() => undefined),
      teardown: () => expectDrained('bench'),
    },
  }),
  defineBenchmark({
    name: `outbox relay, webhook sink to a local receiver (${where})`,
    unit: 'messages',
    units: MESSAGES,
    runs: 5,
    baseline: {
      label: `plain fetch POSTs, ${BATCH} at a time, no database`,
      run: async () => {
        for (let start = 0; start < MESSAGES; start += BATCH) {
          await Promise.all(
            events.slice(start, start + BATCH).map(async (event, index) => {
              const response = await fetch(receiverUrl, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ id: String(start + index), event }),
              });
              await response.body?.cancel();
            }),
          );
        }
      },
    },
    subject: {
      label: `relay + signed webhookSink, batches of ${BATCH}`,
      setup: () => fillOutbox('bench'),
      run: () => relayDrain(webhookSink({ url: receiverUrl, secret: 'bench-secret' })),
      teardown: () => expectDrained('bench'),
    },
  }),
  defineBenchmark({
    name: `append with the outbox writer (${where})`,
    unit: 'appends',
    units: APPENDS,
    runs: 3,
    baseline: {
      label: 'appends of 2 events, no append hook',
      setup: () => appendContext(false),
      run: appendAll,
    },
    subject: {
      label: 'appends of 2 events, outboxWriter routing both',
      setup: () => appendContext(true),
      run: appendAll,
    },
  }),
];

let appendRuns = 0;
function appendContext(withOutbox: boolean) {
  appendRuns += 1;
  return createPostgresEventStore(db, {
    tenant: `append-${appendRuns}`,
    appendHooks: withOutbox
      ? [outboxWriter([{ destination: 'append-bench', accepts: ['OrderPlaced', 'OrderPaid'] }])]
      : [],
  });
}

async function appendAll(store: ReturnType<typeof appendContext>): Promise<void> {
  for (let index = 0; index < APPENDS; index++) {
    await store.append(
      { aggregateType: 'Order', aggregateId: `order-${index}` },
      ['OrderPlaced', 'OrderPaid'].map((type) => ({
        id: newKsuid(),
        type,
        schemaVersion: 1,
        occurredAt: new Date().toISOString(),
        data: { total: 4_200 },
        metadata: {},
      })),
      { expectedVersion: NO_STREAM },
    );
  }
}
