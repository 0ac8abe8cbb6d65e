import { fileURLToPath } from 'node:url';
import { NO_STREAM } from '@strata/core';
import {
  createTestDatabase,
  type Pool,
  type TestDatabase,
  testPostgres,
} from '@strata/tooling/postgres/neon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendNotes,
  type Delivery,
  expectOrderedDeliveries,
} from '../../test/fixtures/consumer-groups/group-scenario.ts';
import { newNote } from '../../test/fixtures/first-note.ts';
import { type SpawnedProcess, spawnProcess } from '../../test/fixtures/node/spawn-server.ts';
import { migrate } from '../migrations/migrations.ts';
import { neonDatabase } from '../postgres/neon-database.ts';
import { createPostgresEventStore } from '../postgres/postgres-event-store.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import { claimEvents } from './claim-events.ts';
import { type ConsumerGroupConsumer, createConsumerGroup } from './consumer-group.ts';
import { consumerGroupStatus, listParkedEvents } from './consumer-group-admin.ts';
import { ensureConsumerGroup } from './consumer-group-definition.ts';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
let database: TestDatabase;
let pool: Pool;
let db: SqlDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = database.createPool({ max: 20 });
  db = neonDatabase(pool);
  await migrate(db);
  await pool.query(
    `CREATE TABLE cg_handled (
       seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       consumer text NOT NULL, event_id text NOT NULL, aggregate_id text NOT NULL,
       version integer NOT NULL)`,
  );
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

interface HandledRow {
  consumer: string;
  event_id: string;
  aggregate_id: string;
  version: number;
}

/** Every handling of the tenant's events so far, in the order they happened. */
async function handledOf(prefix: string): Promise<HandledRow[]> {
  const { rows } = await pool.query<HandledRow>(
    `SELECT consumer, event_id, aggregate_id, version FROM cg_handled
     WHERE aggregate_id LIKE $1 || '-%' ORDER BY seq`,
    [prefix],
  );
  return rows;
}

const asDeliveries = (rows: readonly HandledRow[]): Delivery[] =>
  rows.map((row) => ({
    consumer: row.consumer,
    event: {
      id: row.event_id,
      aggregateType: 'Note',
      aggregateId: row.aggregate_id,
      version: row.version,
    },
  }));

/** The realistic cost of a handler: one INSERT (the record the assertions read). */
const recordingHandler = (consumerId: string) => async (event: Delivery['event']) => {
  await pool.query(
    'INSERT INTO cg_handled (consumer, event_id, aggregate_id, version) VALUES ($1, $2, $3, $4)',
    [consumerId, event.id, event.aggregateId, event.version],
  );
};

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const AGGREGATES = 24;
const PER_AGGREGATE = 8;
const TOTAL = AGGREGATES * PER_AGGREGATE;

describe.each([1, 2, 4])('a consumer group of %i consumer(s) on Postgres', (count) => {
  it('handles every event, keeps each aggregate in order and shares the partitions', async () => {
    const tenant = `shared-${count}`;
    const prefix = `n${count}`;
    const consumers: ConsumerGroupConsumer[] = Array.from({ length: count }, (_, index) =>
      createConsumerGroup({
        database: db,
        group: 'notes',
        tenant,
        consumerId: `c${index}`,
        partitions: 16,
        batchSize: 10,
        leaseMs: 5000,
        idleMs: 20,
        handler: recordingHandler(`c${index}`),
      }),
    );
    for (const consumer of consumers) consumer.start();
    try {
      // Appended while the consumers run: they read the live, no-skip order.
      const written = await appendNotes(
        createPostgresEventStore(db, { tenant }) as never,
        AGGREGATES,
        PER_AGGREGATE,
        prefix,
      );
      expect(written).toHaveLength(TOTAL);
      const everyEvent = async () =>
        new Set((await handledOf(prefix)).map((row) => row.event_id)).size === TOTAL;
      await waitFor(everyEvent, 20_000, 'every event handled');
      const rows = await handledOf(prefix);
      expect(new Set(rows.map((row) => row.event_id))).toEqual(
        new Set(written.map((event) => event.id)),
      );
      expectOrderedDeliveries(asDeliveries(rows));
      // Nothing crashed, nothing failed: each event handled exactly once.
      expect(rows).toHaveLength(TOTAL);

      // Rebalanced: every consumer holds its fair share, no more.
      const share = Math.ceil(16 / count);
      await waitFor(
        async () => {
          const status = await consumerGroupStatus(
            db,
            await (consumers[0] as ConsumerGroupConsumer).group(),
          );
          const held = consumers.map(
            (consumer) => status.partitions.filter((p) => p.owner === consumer.consumerId).length,
          );
          return held.every((n) => n > 0 && n <= share) && held.reduce((a, b) => a + b) === 16;
        },
        10_000,
        'a fair share of partitions per consumer',
      );
      // Every event is handled; the last acknowledgements may still be on their way (a loaded
      // machine): lag reaches 0 once they land.
      await waitFor(
        async () =>
          (await consumerGroupStatus(db, await (consumers[0] as ConsumerGroupConsumer).group()))
            .lag === 0,
        10_000,
        'no lag',
      );
      const status = await consumerGroupStatus(
        db,
        await (consumers[0] as ConsumerGroupConsumer).group(),
      );
      expect(status.lag).toBe(0);
      expect(status.consumers.map((c) => c.consumerId)).toEqual(consumers.map((c) => c.consumerId));
    } finally {
      await Promise.all(consumers.map((consumer) => consumer.stop()));
    }
  });
});

describe('a consumer group on Postgres when things go wrong', () => {
  it('redelivers the unacked events of a consumer process killed mid-batch to the others', async () => {
    const tenant = 'crash';
    const prefix = 'crash';
    const written = await appendNotes(
      createPostgresEventStore(db, { tenant }) as never,
      AGGREGATES,
      PER_AGGREGATE,
      prefix,
    );
    const BATCH = 20;
    const HANG_AT = BATCH + 6; // in its second batch: 20 handled and acked, 6 handled, not acked
    const child: SpawnedProcess = spawnProcess(
      process.execPath,
      ['--import', 'tsx', 'test/fixtures/consumer-groups/consumer-process.ts'],
      {
        cwd: packageDir,
        env: {
          DATABASE_URL: database.url,
          WS_PROXY_PORT: String(testPostgres().wsProxyPort),
          GROUP: 'crash',
          TENANT: tenant,
          CONSUMER_ID: 'doomed',
          LEASE_MS: '1500',
          BATCH_SIZE: String(BATCH),
          PARTITIONS: '8',
          HANDLER_DELAY_MS: '2',
          HANG_AT: String(HANG_AT),
        },
      },
    );
    const survivors = ['s1', 's2'].map((consumerId) =>
      createConsumerGroup({
        database: db,
        group: 'crash',
        tenant,
        consumerId,
        partitions: 8,
        batchSize: BATCH,
        leaseMs: 1500,
        idleMs: 20,
        handler: recordingHandler(consumerId),
      }),
    );
    try {
      await waitFor(async () => child.output().includes('hanging'), 30_000, 'the child to hang');
      const byChild = (await handledOf(prefix)).filter((row) => row.consumer === 'doomed');
      expect(byChild).toHaveLength(HANG_AT);
      // Alive (its heartbeats keep the leases), the child holds every partition...
      for (const survivor of survivors) survivor.start();
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await handledOf(prefix)).filter((row) => row.consumer !== 'doomed')).toEqual([]);
      // ...until it dies mid-batch; then its leases run out and the others take over.
      expect(await child.stop('SIGKILL')).toBeNull();
      const killedAt = Date.now();
      await waitFor(
        async () =>
          new Set((await handledOf(prefix)).map((row) => row.event_id)).size === TOTAL &&
          (await handledOf(prefix)).filter((row) => row.consumer !== 'doomed').length >=
            TOTAL - BATCH,
        20_000,
        'every event handled by the survivors',
      );
      // Waited for the leases: 1500 ms from the child's last heartbeat, which can be up to a
      // heartbeat period (500 ms) before the kill, measured from when stop() saw the exit.
      expect(Date.now() - killedAt).toBeGreaterThanOrEqual(800);

      const rows = await handledOf(prefix);
      expect(new Set(rows.map((row) => row.event_id))).toEqual(
        new Set(written.map((event) => event.id)),
      );
      expectOrderedDeliveries(asDeliveries(rows));
      const bySurvivors = new Set(
        rows.filter((row) => row.consumer !== 'doomed').map((row) => row.event_id),
      );
      // The acked first batch is not handled again; the unacked rest of the second batch is.
      const acked = byChild.slice(0, BATCH).map((row) => row.event_id);
      const unacked = byChild.slice(BATCH).map((row) => row.event_id);
      expect(acked.filter((id) => bySurvivors.has(id))).toEqual([]);
      expect(unacked.filter((id) => !bySurvivors.has(id))).toEqual([]);
      expect(rows).toHaveLength(TOTAL + unacked.length);
      expect(
        new Set(rows.filter((row) => row.consumer !== 'doomed').map((row) => row.consumer)),
      ).toEqual(new Set(['s1', 's2']));
    } finally {
      await child.stop('SIGKILL');
      await Promise.all(survivors.map((survivor) => survivor.stop()));
    }
  });

  it('never passes over an event whose transaction commits late (the no-skip rule)', async () => {
    const tenant = 'late';
    const store = createPostgresEventStore(db, { tenant });
    const group = await ensureConsumerGroup(db, { name: 'late', tenant }, { partitions: 1 });
    let release: () => void = () => undefined;
    let inside: () => void = () => undefined;
    const entered = new Promise<void>((resolve) => {
      inside = resolve;
    });
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The early transaction takes its transaction id first, then waits before appending and
    // committing (a tenant's appends commit in tenant-position order, so the late one cannot be
    // behind a held append of the same tenant: it is behind the early transaction id).
    const early = createPostgresEventStore(
      {
        query: (text, params) => db.query(text, params),
        transaction: (work) =>
          db.transaction(async (tx) => {
            await tx.query('SELECT pg_current_xact_id()');
            inside();
            await gate;
            return work(tx);
          }),
      },
      { tenant },
    ).append({ aggregateType: 'Note', aggregateId: 'early' }, [newNote()], {
      expectedVersion: NO_STREAM,
    });
    await entered;
    const late = await store.append({ aggregateType: 'Note', aggregateId: 'late' }, [newNote()], {
      expectedVersion: NO_STREAM,
    });
    const before = await claimEvents(db, group, { consumerId: 'reader' });
    expect(before.partitions.flatMap((batch) => batch.events)).toEqual([]);
    release();
    const earlyId = (await early).events[0]?.id;
    const after = await claimEvents(db, group, { consumerId: 'reader' });
    expect(after.partitions.flatMap((batch) => batch.events.map((event) => event.id))).toEqual([
      earlyId,
      late.events[0]?.id,
    ]);
  });

  it('parks an event whose handler keeps failing after the retries, and the group moves on', async () => {
    const tenant = 'poison';
    const prefix = 'poison';
    const written = await appendNotes(
      createPostgresEventStore(db, { tenant }) as never,
      6,
      4,
      prefix,
    );
    const poison = written.find(
      (event) => event.aggregateId === `${prefix}-2` && event.version === 2,
    );
    const attempts: number[] = [];
    const consumers = ['p1', 'p2'].map((consumerId) =>
      createConsumerGroup({
        database: db,
        group: 'poison',
        tenant,
        consumerId,
        partitions: 4,
        maxAttempts: 3,
        backoff: { initialDelayMs: 50 },
        leaseMs: 5000,
        idleMs: 20,
        handler: async (event, delivery) => {
          if (event.id === poison?.id) {
            attempts.push(delivery.attempt);
            throw new Error(`cannot handle ${event.id}`);
          }
          await recordingHandler(consumerId)(event);
        },
      }),
    );
    for (const consumer of consumers) consumer.start();
    try {
      await waitFor(
        async () => (await handledOf(prefix)).length >= written.length - 1,
        20_000,
        'every other event handled',
      );
      const rows = await handledOf(prefix);
      expect(rows.map((row) => row.event_id).sort()).toEqual(
        written
          .filter((event) => event !== poison)
          .map((event) => event.id)
          .sort(),
      );
      expect(attempts).toEqual([1, 2, 3]);
      // The poisoned aggregate moved on past the parked event (its versions 3 and 4 ran).
      expect(
        rows.filter((row) => row.aggregate_id === `${prefix}-2`).map((row) => row.version),
      ).toEqual([1, 3, 4]);
      const group = await (consumers[0] as ConsumerGroupConsumer).group();
      const parked = await listParkedEvents(db, group);
      expect(parked).toHaveLength(1);
      expect(parked[0]).toMatchObject({
        attempts: 3,
        state: 'parked',
        error: `Error: cannot handle ${poison?.id}`,
        event: { id: poison?.id },
      });
      const status = await consumerGroupStatus(db, group);
      expect(status).toMatchObject({ lag: 0, parked: 1 });
    } finally {
      await Promise.all(consumers.map((consumer) => consumer.stop()));
    }
  });
});
