import { isEncryptedPayload, isForgotten, NO_STREAM, newKsuid } from '@strata/core';
import { describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import { createPostgresEventStore } from '../postgres/postgres-event-store.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import { decryptStoredEvents } from './decrypt-stored-events.ts';
import { encryptAggregates } from './encryption-options.ts';
import { forgetAggregate } from './forget-aggregate.ts';
import { createPostgresKeyStore } from './postgres-key-store.ts';

const pglite = useMigratedPglite();
const user = (aggregateId: string) => ({ aggregateType: 'User', aggregateId });
const newEvent = (data: unknown) => ({
  id: newKsuid(),
  type: 'EmailSet',
  schemaVersion: 1,
  occurredAt: '2026-01-01T00:00:00.000Z',
  data,
  metadata: {},
});

/** The database, counting the queries that touch the key table. */
function countingKeyQueries(): { database: SqlDatabase; keyQueries: () => number } {
  const database = pgliteDatabase(pglite());
  let count = 0;
  const counted: SqlDatabase = {
    transaction: (work) => database.transaction(work),
    query(text, params) {
      if (text.includes('strata_encryption_keys')) count++;
      return database.query(text, params);
    },
  };
  return { database: counted, keyQueries: () => count };
}

describe('Postgres key store (PGlite)', () => {
  it('creates one key per stream, finds it by kid, and leaves a tombstone when forgetting', async () => {
    const keyStore = createPostgresKeyStore(pgliteDatabase(pglite()), { tenant: 'k1' });
    const first = await keyStore.keyFor(user('a'));
    expect((await keyStore.keyFor(user('a'))).kid).toBe(first.kid);
    expect((await keyStore.keyFor(user('b'))).kid).not.toBe(first.kid);

    expect(await keyStore.forget(user('a'))).toEqual({
      kid: first.kid,
      forgottenAt: expect.any(String),
    });
    expect(await keyStore.forget(user('a'))).toEqual({});
    const renewed = await keyStore.keyFor(user('a'));
    expect(renewed.kid).not.toBe(first.kid);

    const found = await keyStore.find([first.kid, renewed.kid, 'never']);
    expect(found.get(first.kid)).toMatchObject({ status: 'forgotten', stream: user('a') });
    expect(found.get(renewed.kid)).toMatchObject({ status: 'active', stream: user('a') });
    expect(found.has('never')).toBe(false);
    // Keys are per tenant: another tenant's store knows none of them.
    const other = createPostgresKeyStore(pgliteDatabase(pglite()), { tenant: 'k2' });
    expect((await other.find([first.kid, renewed.kid])).size).toBe(0);
  });

  it('encrypts on append, decrypts on read, one key query per batch, none without ciphertext', async () => {
    const { database, keyQueries } = countingKeyQueries();
    const stores = ['t1', 't2'].map((tenant) =>
      createPostgresEventStore(database, { tenant, encryption: encryptAggregates(['User']) }),
    );
    for (const [index, store] of stores.entries()) {
      const appended = await store.append(
        user(`u-${index}`),
        [newEvent({ email: `u${index}@example.com` }), newEvent({ email: 'second' })],
        { expectedVersion: NO_STREAM },
      );
      // The appender gets back what it appended, in plaintext.
      expect(appended.events.map((event) => event.data)).toEqual([
        { email: `u${index}@example.com` },
        { email: 'second' },
      ]);
    }
    await stores[0]?.append({ aggregateType: 'Plain', aggregateId: 'p' }, [newEvent({ x: 1 })], {
      expectedVersion: NO_STREAM,
    });

    const { rows } = await database.query<{ data: unknown; tenant: string }>(
      `SELECT data, tenant FROM strata_events WHERE tenant IN ('t1', 't2') AND aggregate_type = 'User'`,
    );
    expect(rows.every((row) => isEncryptedPayload(row.data))).toBe(true);

    const stored = (await Promise.all(stores.map((store) => store.readAll()))).flatMap(
      (page) => page.events,
    );
    const before = keyQueries();
    const plainOnly = stored.filter((event) => event.aggregateType === 'Plain');
    expect(await decryptStoredEvents(database, plainOnly)).toEqual(plainOnly);
    expect(keyQueries()).toBe(before);

    // The raw rows of both tenants, as a reader of the global order sees them: one query.
    const { rows: sealedRows } = await database.query<{ id: string; data: unknown }>(
      `SELECT id, data FROM strata_events WHERE tenant IN ('t1', 't2') AND aggregate_type = 'User'`,
    );
    const sealedById = new Map(sealedRows.map((row) => [row.id, row.data]));
    const sealed = stored
      .filter((event) => event.aggregateType === 'User')
      .map((event) => ({ ...event, data: sealedById.get(event.id) }));
    const opened = await decryptStoredEvents(database, sealed);
    expect(keyQueries()).toBe(before + 1);
    expect(opened.map((event) => event.data)).toEqual([
      { email: 'u0@example.com' },
      { email: 'second' },
      { email: 'u1@example.com' },
      { email: 'second' },
    ]);

    await forgetAggregate(database, { tenant: 't1', stream: user('u-0') });
    const afterForget = await decryptStoredEvents(database, sealed);
    expect(afterForget.slice(0, 2).every((event) => isForgotten(event.data))).toBe(true);
    expect(afterForget[2]?.data).toEqual({ email: 'u1@example.com' });
  });

  it('deletes the snapshots of a forgotten aggregate with its key', async () => {
    const database = pgliteDatabase(pglite());
    const store = createPostgresEventStore(database, {
      tenant: 's1',
      encryption: encryptAggregates(['User']),
    });
    await store.append(user('s'), [newEvent({ email: 's@example.com' })], {
      expectedVersion: NO_STREAM,
      snapshot: {
        ...user('s'),
        version: 1,
        state: { email: 's@example.com' },
        fingerprint: 'f',
        takenAt: '2026-01-01T00:00:00.000Z',
      },
    });
    expect(await store.loadSnapshot(user('s'))).toBeDefined();
    await forgetAggregate(database, { tenant: 's1', stream: user('s') });
    expect(await store.loadSnapshot(user('s'))).toBeUndefined();
  });

  it('saves no snapshot whose state was taken before the aggregate was forgotten (it holds the shredded plaintext)', async () => {
    const database = pgliteDatabase(pglite());
    const store = createPostgresEventStore(database, {
      tenant: 's2',
      encryption: encryptAggregates(['User']),
    });
    await store.append(user('r'), [newEvent({ email: 'r@example.com' })], {
      expectedVersion: NO_STREAM,
    });
    const { forgottenAt } = await forgetAggregate(database, { tenant: 's2', stream: user('r') });
    const at = (offsetMs: number) =>
      new Date(Date.parse(forgottenAt ?? '') + offsetMs).toISOString();
    const snapshotAt = (version: number, takenAt: string) => ({
      ...user('r'),
      version,
      state: { email: 'r@example.com' },
      fingerprint: 'f',
      takenAt,
    });
    // Decided on the state loaded before the forget, appended after it: no snapshot.
    await store.append(user('r'), [newEvent({ email: 'x@example.com' })], {
      expectedVersion: 1,
      snapshot: snapshotAt(2, at(-1000)),
    });
    expect(await store.loadSnapshot(user('r'))).toBeUndefined();
    // Taken after the forget (from the forgotten markers): saved.
    await store.append(user('r'), [newEvent({ email: 'y@example.com' })], {
      expectedVersion: 2,
      snapshot: snapshotAt(3, at(1000)),
    });
    expect(await store.loadSnapshot(user('r'))).toMatchObject({ version: 3 });
  });
});
