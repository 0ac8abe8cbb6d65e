import { describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { appendEvents } from '../../test/fixtures/outbox/append-events.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import { createPostgresEventStore } from '../postgres/postgres-event-store.ts';
import { createOutboxRelay } from './outbox-relay.ts';
import { outboxWriter } from './outbox-writer.ts';
import { purgeDeliveredMessages } from './purge-delivered.ts';

const pglite = useMigratedPglite();

describe('purgeDeliveredMessages', () => {
  it('deletes only messages delivered before the cut-off, a limited batch at a time', async () => {
    const db = pgliteDatabase(pglite());
    const store = createPostgresEventStore(db, {
      tenant: 'purge',
      appendHooks: [
        outboxWriter([
          { destination: 'ok', accepts: ['Good'] },
          { destination: 'bad', accepts: ['Bad'] },
        ]),
      ],
    });
    for (let index = 0; index < 5; index++) {
      await appendEvents(store, { aggregateType: 'Thing', aggregateId: `t${index}` }, [
        'Good',
        'Bad',
      ]);
    }
    const relay = createOutboxRelay({
      database: db,
      sinks: { ok: () => undefined, bad: () => Promise.reject(new Error('down')) },
      maxAttempts: 1,
      onError: () => undefined,
    });
    await relay.runOnce();
    const statuses = async () =>
      (
        await db.query<{ status: string; count: number }>(
          `SELECT status, count(*)::integer AS count FROM strata_outbox WHERE tenant = 'purge'
           GROUP BY status ORDER BY status`,
        )
      ).rows;
    expect(await statuses()).toEqual([
      { status: 'dead', count: 5 },
      { status: 'delivered', count: 5 },
    ]);
    // Delivered just now: kept by a one-hour retention.
    expect(await purgeDeliveredMessages(db, { olderThanMs: 3_600_000 })).toBe(0);
    await db.query(
      "UPDATE strata_outbox SET delivered_at = now() - interval '2 hours' WHERE status = 'delivered'",
    );
    expect(await purgeDeliveredMessages(db, { olderThanMs: 3_600_000, limit: 3 })).toBe(3);
    expect(await purgeDeliveredMessages(db, { olderThanMs: 3_600_000, limit: 3 })).toBe(2);
    expect(await statuses()).toEqual([{ status: 'dead', count: 5 }]);
    await expect(purgeDeliveredMessages(db, { olderThanMs: -1 })).rejects.toThrow(RangeError);
  });
});
