import { describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { appendEvents } from '../../test/fixtures/outbox/append-events.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import { createPostgresEventStore } from '../postgres/postgres-event-store.ts';
import { outboxWriter } from './outbox-writer.ts';

const pglite = useMigratedPglite();
let streams = 0;
const stream = () => ({ aggregateType: 'Order', aggregateId: `order-${streams++}` });

async function outboxRows(tenant: string) {
  const { rows } = await pgliteDatabase(pglite()).query<{
    destination: string;
    event_id: string;
    event: { id: string; type: string; cursor: string; tenant: string; data: unknown };
    status: string;
    attempts: number;
  }>(
    'SELECT destination, event_id, event, status, attempts FROM strata_outbox WHERE tenant = $1 ORDER BY id',
    [tenant],
  );
  return rows;
}

describe('outboxWriter', () => {
  const writer = outboxWriter([
    { destination: 'billing', accepts: ['OrderPlaced', 'OrderPaid'] },
    { destination: 'audit', accepts: (event) => event.aggregateType === 'Order' },
  ]);

  it('writes one row per event and accepting route, with the event as stored', async () => {
    const store = createPostgresEventStore(pgliteDatabase(pglite()), {
      tenant: 'writer-a',
      appendHooks: [writer],
    });
    const { events } = await appendEvents(store, stream(), [
      'OrderPlaced',
      'OrderNoted',
      'OrderPaid',
    ]);
    const rows = await outboxRows('writer-a');
    expect(rows.map((row) => [row.destination, row.event.type])).toEqual([
      ['billing', 'OrderPlaced'],
      ['audit', 'OrderPlaced'],
      ['audit', 'OrderNoted'],
      ['billing', 'OrderPaid'],
      ['audit', 'OrderPaid'],
    ]);
    // JSON with quotes and backslashes survives the text[] -> jsonb cast unchanged.
    expect(rows[0]?.event).toEqual(events[0]);
    expect(rows.map((row) => row.event_id)).toEqual(
      [0, 0, 1, 2, 2].map((index) => events[index]?.id),
    );
    expect(rows.every((row) => row.status === 'pending' && row.attempts === 0)).toBe(true);
  });

  it('writes nothing for events no route accepts', async () => {
    const store = createPostgresEventStore(pgliteDatabase(pglite()), {
      tenant: 'writer-b',
      appendHooks: [writer],
    });
    await appendEvents(store, { aggregateType: 'Note', aggregateId: 'n-1' }, ['Noted']);
    expect(await outboxRows('writer-b')).toEqual([]);
  });

  it('commits with the append or not at all', async () => {
    const failing = new Error('a later hook vetoes the append');
    const store = createPostgresEventStore(pgliteDatabase(pglite()), {
      tenant: 'writer-c',
      appendHooks: [
        writer,
        async (_events, { transaction }) => {
          // The outbox rows are there inside the transaction...
          const { rows } = await transaction.query(
            `SELECT 1 FROM strata_outbox WHERE tenant = 'writer-c'`,
          );
          expect(rows).toHaveLength(2);
          throw failing;
        },
      ],
    });
    const orders = stream();
    await expect(appendEvents(store, orders, ['OrderPlaced'])).rejects.toBe(failing);
    // ...and gone with the rolled-back events.
    expect(await outboxRows('writer-c')).toEqual([]);
    expect(await store.readStream(orders)).toEqual([]);
  });

  it('refuses a destination routed twice', () => {
    expect(() =>
      outboxWriter([
        { destination: 'x', accepts: ['A'] },
        { destination: 'x', accepts: ['B'] },
      ]),
    ).toThrow(/routed twice/);
  });
});
