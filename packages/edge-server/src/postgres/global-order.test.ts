import type { EventStore } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { appendFirstNote } from '../../test/fixtures/first-note.ts';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { pgliteDatabase } from './pglite-database.ts';
import {
  createPostgresEventStore,
  globalOrderTail,
  readGlobalOrder,
} from './postgres-event-store.ts';

const pglite = useMigratedPglite();

const currentXid = async () =>
  Number(
    (await pglite().query<{ x: string }>('SELECT pg_current_xact_id()::text AS x')).rows[0]?.x,
  );

describe('the global order', () => {
  // Regression: ordering by the `transaction_id::text` alias sorted '1000' before '999', which
  // put later events first and let a reader's cursor jump over earlier ones.
  it('orders transaction ids as numbers across a power of ten', async () => {
    const store = createPostgresEventStore(pgliteDatabase(pglite()), { tenant: 'digits' });
    const append = (aggregateId: string) =>
      appendFirstNote(store as EventStore<never>, aggregateId);
    await append('before');
    // Each query outside a transaction block burns one transaction id.
    const boundary = 10 ** String(await currentXid()).length;
    while ((await currentXid()) < boundary) {
      // keep burning
    }
    await append('after');

    const db = pgliteDatabase(pglite());
    const page = await readGlobalOrder(db, { tenant: 'digits', limit: 1 });
    expect(page.events.map((event) => event.aggregateId)).toEqual(['before']);
    const next = await readGlobalOrder(db, { tenant: 'digits', after: page.cursor });
    expect(next.events.map((event) => event.aggregateId)).toEqual(['after']);
    expect(await globalOrderTail(db)).toBe(next.cursor);
    // A cursor of that global order, from a client of before tenant positions, resumes the
    // tenant's log right after its event.
    const resumed = await store.readAll({ after: page.cursor });
    expect(resumed.events.map((event) => event.aggregateId)).toEqual(['after']);
  });
});
