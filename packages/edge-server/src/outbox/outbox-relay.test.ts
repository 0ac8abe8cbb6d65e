import { describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { appendEvents } from '../../test/fixtures/outbox/append-events.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import { createPostgresEventStore } from '../postgres/postgres-event-store.ts';
import { listDeadLetters, replayDeadLetters } from './dead-letters.ts';
import { createOutboxRelay, OutboxDeliveryTimeoutError } from './outbox-relay.ts';
import type { OutboxMessage } from './outbox-sink.ts';
import { outboxWriter } from './outbox-writer.ts';

const pglite = useMigratedPglite();
const db = () => pgliteDatabase(pglite());
const quiet = () => undefined;

// Every test routes to destinations of its own, so relays of one test never see another's rows.
let tests = 0;
function scenario() {
  tests += 1;
  const destination = `dest-${tests}`;
  const tenant = `tenant-${tests}`;
  const store = createPostgresEventStore(db(), {
    tenant,
    appendHooks: [outboxWriter([{ destination, accepts: (event) => event.type !== 'Skipped' }])],
  });
  let streams = 0;
  const append = (...types: string[]) =>
    appendEvents(store, { aggregateType: 'Thing', aggregateId: `t-${streams++}` }, types);
  const rows = async () =>
    (
      await db().query<{
        id: string;
        status: string;
        attempts: number;
        last_error: string | null;
        locked_by: string | null;
        due_in_ms: number;
      }>(
        `SELECT id::text AS id, status, attempts, last_error, locked_by,
                (extract(epoch FROM next_attempt_at - now()) * 1000)::float8 AS due_in_ms
         FROM strata_outbox WHERE destination = $1 ORDER BY strata_outbox.id`,
        [destination],
      )
    ).rows;
  return { destination, tenant, store, append, rows };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('createOutboxRelay on PGlite', () => {
  it('hands each message to its destination sink and records the acknowledgement', async () => {
    const { destination, tenant, append, rows } = scenario();
    const { events } = await append('Created', 'Skipped', 'Renamed');
    const received: OutboxMessage[] = [];
    const relay = createOutboxRelay({
      database: db(),
      sinks: { [destination]: (message) => void received.push(message) },
    });
    expect(await relay.runOnce()).toEqual({
      claimed: 2,
      delivered: 2,
      retrying: 0,
      dead: 0,
      lost: 0,
    });
    const ids = (await rows()).map((row) => row.id);
    expect(received.sort((a, b) => Number(a.id) - Number(b.id))).toEqual([
      { id: ids[0], destination, tenant, event: events[0], attempt: 1 },
      { id: ids[1], destination, tenant, event: events[2], attempt: 1 },
    ]);
    expect((await rows()).map((row) => [row.status, row.attempts, row.locked_by])).toEqual([
      ['delivered', 1, null],
      ['delivered', 1, null],
    ]);
    expect((await relay.runOnce()).claimed).toBe(0);
  });

  it('claims only destinations it has a sink for', async () => {
    const mine = scenario();
    const theirs = scenario();
    await mine.append('Created');
    await theirs.append('Created');
    const relay = createOutboxRelay({ database: db(), sinks: { [mine.destination]: quiet } });
    expect((await relay.runOnce()).claimed).toBe(1);
    expect((await theirs.rows()).map((row) => row.status)).toEqual(['pending']);
  });

  it('retries a failed delivery after a backoff, then turns it dead after maxAttempts', async () => {
    const { destination, append, rows } = scenario();
    await append('Created');
    const attempts: number[] = [];
    const errors: unknown[] = [];
    const relay = createOutboxRelay({
      database: db(),
      sinks: {
        [destination]: (message) => {
          attempts.push(message.attempt);
          throw new Error(`receiver down (attempt ${message.attempt})`);
        },
      },
      maxAttempts: 3,
      backoff: { initialDelayMs: 60_000 }, // 30 s, 60 s: far off unless pulled in
      random: () => 0,
      onError: (error) => errors.push(error),
    });

    expect(await relay.runOnce()).toMatchObject({ claimed: 1, retrying: 1 });
    const [afterFirst] = await rows();
    expect(afterFirst).toMatchObject({
      status: 'pending',
      attempts: 1,
      locked_by: null,
      last_error: 'Error: receiver down (attempt 1)',
    });
    expect(afterFirst?.due_in_ms).toBeGreaterThan(29_000);
    expect(afterFirst?.due_in_ms).toBeLessThanOrEqual(30_000);
    // Not due yet: the next round leaves it alone.
    expect((await relay.runOnce()).claimed).toBe(0);

    const pullIn = () =>
      db().query('UPDATE strata_outbox SET next_attempt_at = now() WHERE destination = $1', [
        destination,
      ]);
    await pullIn();
    expect(await relay.runOnce()).toMatchObject({ claimed: 1, retrying: 1 });
    expect((await rows())[0]?.due_in_ms).toBeGreaterThan(59_000); // doubled
    await pullIn();
    expect(await relay.runOnce()).toMatchObject({ claimed: 1, retrying: 0, dead: 1 });
    expect(attempts).toEqual([1, 2, 3]);
    expect(errors).toHaveLength(3);
    await pullIn();
    expect((await relay.runOnce()).claimed).toBe(0);
    expect((await rows())[0]).toMatchObject({ status: 'dead', attempts: 3 });
  });

  it('lists dead letters and replays them with fresh attempts', async () => {
    const { destination, tenant, append, rows } = scenario();
    const { events } = await append('Created', 'Renamed', 'Deleted');
    let receiverFixed = false;
    const delivered: string[] = [];
    const relay = createOutboxRelay({
      database: db(),
      sinks: {
        [destination]: (message) => {
          if (!receiverFixed) throw new Error('500 from receiver');
          delivered.push(message.event.type);
        },
      },
      maxAttempts: 1,
      onError: quiet,
    });
    expect(await relay.runOnce()).toMatchObject({ claimed: 3, dead: 3 });

    const dead = await listDeadLetters(db(), { destination });
    expect(dead.map((letter) => letter.event)).toEqual(events);
    expect(dead[0]).toMatchObject({
      destination,
      tenant,
      attempts: 1,
      lastError: 'Error: 500 from receiver',
    });
    expect(new Date(dead[0]?.diedAt ?? 0).getTime()).toBeGreaterThan(Date.now() - 60_000);
    // Pages by id; filters by tenant.
    const firstPage = await listDeadLetters(db(), { destination, limit: 2 });
    expect(firstPage.map((letter) => letter.id)).toEqual(dead.slice(0, 2).map((l) => l.id));
    expect(
      (await listDeadLetters(db(), { destination, after: String(firstPage[1]?.id) })).map(
        (l) => l.id,
      ),
    ).toEqual([dead[2]?.id]);
    expect(await listDeadLetters(db(), { destination, tenant: 'someone-else' })).toEqual([]);

    receiverFixed = true;
    // One by id: only that one comes back; a second replay of it finds nothing dead.
    expect(await replayDeadLetters(db(), { ids: [dead[1]?.id ?? ''] })).toBe(1);
    expect(await replayDeadLetters(db(), { ids: [dead[1]?.id ?? ''] })).toBe(0);
    expect((await rows()).map((row) => [row.status, row.attempts])).toEqual([
      ['dead', 1],
      ['pending', 0],
      ['dead', 1],
    ]);
    expect(await relay.runOnce()).toMatchObject({ claimed: 1, delivered: 1 });
    expect(delivered).toEqual(['Renamed']);

    // The rest, by destination.
    expect(await replayDeadLetters(db(), { destination })).toBe(2);
    expect(await relay.runOnce()).toMatchObject({ claimed: 2, delivered: 2 });
    expect(delivered.sort()).toEqual(['Created', 'Deleted', 'Renamed']);
    expect(await listDeadLetters(db(), { destination })).toEqual([]);
    expect((await rows()).every((row) => row.status === 'delivered')).toBe(true);
  });

  it('aborts a delivery that would outlive its lease and records it as failed', async () => {
    const { destination, append, rows } = scenario();
    await append('Created', 'Renamed');
    let signalAborted = false;
    const relay = createOutboxRelay({
      database: db(),
      sinks: {
        // 'Created' ignores the signal and never settles: the relay must not wait for it, and
        // 'Renamed', delivered in the same batch, is acknowledged all the same.
        [destination]: (message, { signal }) => {
          if (message.event.type === 'Renamed') return;
          signal.addEventListener('abort', () => {
            signalAborted = true;
          });
          return new Promise<void>(() => undefined);
        },
      },
      leaseMs: 1_000,
      deliveryTimeoutMs: 200,
      backoff: { initialDelayMs: 1, maxDelayMs: 1 },
      onError: quiet,
    });
    const started = performance.now();
    expect(await relay.runOnce()).toMatchObject({ claimed: 2, delivered: 1, retrying: 1 });
    expect(performance.now() - started).toBeLessThan(900);
    expect(signalAborted).toBe(true);
    const [created, renamed] = await rows();
    expect(created?.last_error).toMatch(/^OutboxDeliveryTimeoutError: .* 200 ms/);
    expect(renamed?.status).toBe('delivered');
    // The abandoned sink may still be running: nobody claims its message before the lease ends,
    // although its backoff (1 ms) has long passed.
    const eager = createOutboxRelay({
      database: db(),
      sinks: { [destination]: quiet },
      backoff: { initialDelayMs: 1, maxDelayMs: 1 },
      onError: quiet,
    });
    expect((await eager.runOnce()).claimed).toBe(0);
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, started + 1_100 - performance.now())),
    );
    expect(await eager.runOnce()).toMatchObject({ claimed: 1, delivered: 1 });
    expect(() =>
      createOutboxRelay({
        database: db(),
        sinks: { a: quiet },
        leaseMs: 100,
        deliveryTimeoutMs: 100,
      }),
    ).toThrow(/must be below leaseMs/);
    expect(new OutboxDeliveryTimeoutError(5).timeoutMs).toBe(5);
  });

  it('leaves a dead relay’s claim alone until its lease expires, then delivers again', async () => {
    const { destination, append, rows } = scenario();
    await append('Created');
    // A relay that claimed the message and died: the row is leased, its attempt counted.
    await db().query(
      `UPDATE strata_outbox SET locked_by = 'dead-relay#1', attempts = 1,
         locked_until = now() + interval '1 minute' WHERE destination = $1`,
      [destination],
    );
    const received: OutboxMessage[] = [];
    const relay = createOutboxRelay({
      database: db(),
      sinks: { [destination]: (message) => void received.push(message) },
    });
    expect((await relay.runOnce()).claimed).toBe(0);
    await db().query(
      `UPDATE strata_outbox SET locked_until = now() - interval '1 ms' WHERE destination = $1`,
      [destination],
    );
    expect(await relay.runOnce()).toMatchObject({ claimed: 1, delivered: 1 });
    expect(received.map((message) => message.attempt)).toEqual([2]);
    expect((await rows())[0]).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('turns dead a message whose lease expired on its last attempt', async () => {
    const { destination, append, rows } = scenario();
    await append('Created');
    await db().query(
      `UPDATE strata_outbox SET locked_by = 'crashing-relay#9', attempts = 3, last_error = 'earlier',
         locked_until = now() - interval '1 ms' WHERE destination = $1`,
      [destination],
    );
    let calls = 0;
    const relay = createOutboxRelay({
      database: db(),
      sinks: { [destination]: () => void calls++ },
      maxAttempts: 3,
    });
    expect(await relay.runOnce()).toEqual({
      claimed: 0,
      delivered: 0,
      retrying: 0,
      dead: 1,
      lost: 0,
    });
    expect(calls).toBe(0);
    expect((await rows())[0]).toMatchObject({
      status: 'dead',
      locked_by: null,
      last_error: expect.stringMatching(/^Lease expired on the last attempt.*earlier$/),
    });
  });

  it('turns dead, keeping its error, a message a relay with more attempts left pending', async () => {
    const { destination, append, rows } = scenario();
    await append('Created');
    await db().query(
      `UPDATE strata_outbox SET attempts = 5, last_error = 'HTTP 500' WHERE destination = $1`,
      [destination],
    );
    const relay = createOutboxRelay({
      database: db(),
      sinks: { [destination]: quiet },
      maxAttempts: 5,
    });
    expect(await relay.runOnce()).toMatchObject({ claimed: 0, dead: 1 });
    expect((await rows())[0]).toMatchObject({
      status: 'dead',
      attempts: 5,
      last_error: 'HTTP 500',
    });
  });

  it('records nothing for a message whose claim another relay took over', async () => {
    const { destination, append, rows } = scenario();
    await append('Created');
    const relay = createOutboxRelay({
      database: db(),
      sinks: {
        // While this delivery runs, its lease expires and another relay claims the message.
        [destination]: async () => {
          await db().query(
            `UPDATE strata_outbox SET locked_by = 'other-relay#1', attempts = attempts + 1
             WHERE destination = $1`,
            [destination],
          );
        },
      },
    });
    expect(await relay.runOnce()).toMatchObject({ claimed: 1, delivered: 0, lost: 1 });
    expect((await rows())[0]).toMatchObject({
      status: 'pending',
      locked_by: 'other-relay#1',
      attempts: 2,
    });
  });

  it('start() delivers what gets appended; stop() waits for deliveries in flight', async () => {
    const { destination, append, rows } = scenario();
    const finished: string[] = [];
    let started = 0;
    const relay = createOutboxRelay({
      database: db(),
      sinks: {
        [destination]: async (message) => {
          started += 1;
          await sleep(150);
          finished.push(message.event.type);
        },
      },
      pollIntervalMs: 20,
    });
    relay.start();
    relay.start(); // idempotent
    await append('Created', 'Renamed');
    while (started < 2) await sleep(5);
    await relay.stop();
    expect(finished.sort()).toEqual(['Created', 'Renamed']);
    expect((await rows()).map((row) => row.status)).toEqual(['delivered', 'delivered']);

    // Stopped: nothing more is delivered.
    await append('Deleted');
    await sleep(100);
    expect(finished).toHaveLength(2);
  });

  it('keeps polling after a failed round and reports it', async () => {
    const errors: unknown[] = [];
    let queries = 0;
    const relay = createOutboxRelay({
      database: {
        query: async () => {
          queries += 1;
          throw new Error('connection refused');
        },
      },
      sinks: { anywhere: quiet },
      pollIntervalMs: 10,
      onError: (error) => errors.push(error),
    });
    relay.start();
    while (queries < 3) await sleep(5);
    await relay.stop();
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(String(errors[0])).toContain('connection refused');
  });

  it('validates its options', () => {
    expect(() => createOutboxRelay({ database: db(), sinks: {} })).toThrow(/at least one sink/);
    expect(() => createOutboxRelay({ database: db(), sinks: { a: quiet }, batchSize: 0 })).toThrow(
      RangeError,
    );
  });
});
