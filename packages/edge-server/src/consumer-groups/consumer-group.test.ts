import { newKsuid } from '@strata/core';
import { describe, expect, it } from 'vitest';
import {
  appendNotes,
  type Delivery,
  drain,
  expectOrderedDeliveries,
} from '../../test/fixtures/consumer-groups/group-scenario.ts';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import { createPostgresEventStore } from '../postgres/postgres-event-store.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import { ackEvents } from './acknowledge-events.ts';
import { claimEvents } from './claim-events.ts';
import { createConsumerGroup } from './consumer-group.ts';
import {
  consumerGroupStatus,
  listParkedEvents,
  replayParkedEvent,
} from './consumer-group-admin.ts';
import { ensureConsumerGroup } from './consumer-group-definition.ts';

const pglite = useMigratedPglite();
const db = (): SqlDatabase => pgliteDatabase(pglite());
let groups = 0;
const fresh = (prefix: string) => `${prefix}-${groups++}`;

describe('consumer groups on PGlite', () => {
  it('hands every event of a tenant to one consumer, in order per aggregate, and checkpoints', async () => {
    const tenant = fresh('tenant');
    const written = await appendNotes(createPostgresEventStore(db(), { tenant }), 6, 4);
    await appendNotes(createPostgresEventStore(db(), { tenant: fresh('other') }), 2, 2);
    const deliveries: Delivery[] = [];
    const consumer = createConsumerGroup({
      database: db(),
      group: 'notes',
      tenant,
      partitions: 4,
      batchSize: 7,
      handler: (event) => {
        deliveries.push({ consumer: 'only', event });
      },
    });
    await drain([consumer], () => deliveries.length >= written.length);
    expect(deliveries.map(({ event }) => event.id).sort()).toEqual(written.map((e) => e.id).sort());
    expectOrderedDeliveries(deliveries);
    expect(await consumer.runOnce()).toBe(0); // checkpoints moved: nothing is delivered twice
    const status = await consumerGroupStatus(db(), await consumer.group());
    expect(status.lag).toBe(0);
    expect(status.partitions.map((p) => p.owner)).toEqual([
      consumer.consumerId,
      consumer.consumerId,
      consumer.consumerId,
      consumer.consumerId,
    ]);
    await consumer.stop();
    expect((await consumerGroupStatus(db(), await consumer.group())).consumers).toEqual([]);
  });

  it('refuses an ack whose cursor is not an event of that partition (it would skip events)', async () => {
    const tenant = fresh('stray');
    // 16 aggregates: both partitions get events, but for a chance of 2 in 65,536.
    await appendNotes(createPostgresEventStore(db(), { tenant }), 16, 1);
    const group = await ensureConsumerGroup(db(), { name: 'stray', tenant }, { partitions: 2 });
    const claim = await claimEvents(db(), group, { consumerId: 'c1', limit: 100 });
    const [first, second] = claim.partitions;
    if (first === undefined || second === undefined) throw new Error('expected two partitions');
    const stray = [
      { partition: first.partition, from: first.from, to: second.until }, // another partition's
      { partition: second.partition, from: second.from, to: '999999999.999999' }, // nobody's
    ];
    expect(await ackEvents(db(), group, 'c1', stray)).toMatchObject({
      acked: [],
      lost: [first.partition, second.partition].sort(),
    });
    const fair = claim.partitions.map(({ partition, from, until }) => ({
      partition,
      from,
      to: until,
    }));
    expect((await ackEvents(db(), group, 'c1', fair)).acked).toHaveLength(2);
  });

  it('redelivers what a consumer claimed but never acked once its lease runs out', async () => {
    const tenant = fresh('tenant');
    const written = await appendNotes(createPostgresEventStore(db(), { tenant }), 3, 2);
    const group = await ensureConsumerGroup(db(), { name: 'g', tenant }, { partitions: 2 });
    const lost = await claimEvents(db(), group, { consumerId: 'doomed', leaseMs: 200 });
    expect(lost.owned).toEqual([0, 1]);
    expect(lost.partitions.flatMap((p) => p.events)).toHaveLength(written.length);
    // Another consumer finds everything held until the lease runs out.
    expect((await claimEvents(db(), group, { consumerId: 'heir', leaseMs: 5000 })).owned).toEqual(
      [],
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const heir = await claimEvents(db(), group, { consumerId: 'heir', leaseMs: 5000 });
    expect(heir.owned).toEqual([0, 1]);
    expect(heir.partitions.flatMap((p) => p.events.map((e) => e.id)).sort()).toEqual(
      written.map((e) => e.id).sort(),
    );
    // The dead consumer's late ack is refused: it no longer owns the partitions.
    const late = await ackEvents(
      db(),
      group,
      'doomed',
      lost.partitions.map(({ partition, from, until }) => ({ partition, from, to: until })),
    );
    expect(late.acked).toEqual([]);
    expect([...late.lost].sort()).toEqual(lost.partitions.map((p) => p.partition).sort());
  });

  it('retries a failing event with backoff, parks it, moves on, and replays it on request', async () => {
    const tenant = fresh('tenant');
    const written = await appendNotes(createPostgresEventStore(db(), { tenant }), 1, 3);
    const poison = written[1]?.id;
    let healed = false;
    const attempts: number[] = [];
    const handled: string[] = [];
    const consumer = createConsumerGroup({
      database: db(),
      group: 'poison',
      tenant,
      partitions: 2,
      maxAttempts: 3,
      backoff: { initialDelayMs: 20 },
      handler: (event, delivery) => {
        if (event.id === poison && !healed) {
          attempts.push(delivery.attempt);
          throw new Error('boom');
        }
        handled.push(event.id);
      },
    });
    await drain([consumer], () => handled.length >= 2);
    expect(attempts).toEqual([1, 2, 3]);
    expect(handled).toEqual([written[0]?.id, written[2]?.id]);
    const group = await consumer.group();
    const parked = await listParkedEvents(db(), group);
    expect(parked).toEqual([
      expect.objectContaining({ attempts: 3, error: 'Error: boom', state: 'parked' }),
    ]);
    expect(parked[0]?.event.id).toBe(poison);
    expect((await consumerGroupStatus(db(), group)).lag).toBe(0);

    healed = true;
    expect(await replayParkedEvent(db(), group, parked[0]?.id ?? '')).toBe(true);
    expect((await consumerGroupStatus(db(), group)).queued).toBe(1);
    await drain([consumer], () => handled.length >= 3);
    expect(handled.at(-1)).toBe(poison);
    expect(await listParkedEvents(db(), group)).toEqual([]);
    await consumer.stop();
  });

  it('spans every tenant when no tenant is given', async () => {
    const stores = [fresh('a'), fresh('b')].map((tenant) =>
      createPostgresEventStore(db(), { tenant }),
    );
    const written = [
      ...(await appendNotes(stores[0] as never, 2, 1)),
      ...(await appendNotes(stores[1] as never, 2, 1)),
    ];
    const seen = new Set<string>();
    const consumer = createConsumerGroup({
      database: db(),
      group: `all-${newKsuid()}`,
      handler: (event) => {
        seen.add(event.id);
      },
    });
    await drain([consumer], () => written.every((event) => seen.has(event.id)));
    await consumer.stop();
  });
});
