import { NO_STREAM } from '@strata/core';
import { describeEventStoreContract } from '@strata/core/testing';
import { createTestDatabase, type Pool, type TestDatabase } from '@strata/tooling/postgres/neon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newNote } from '../../test/fixtures/first-note.ts';
import { MIGRATIONS, migrate } from '../migrations/migrations.ts';
import { neonDatabase } from './neon-database.ts';
import { createPostgresEventStore } from './postgres-event-store.ts';

let database: TestDatabase;
let pool: Pool;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = database.createPool({ max: 8 });
  await migrate(neonDatabase(pool));
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

// A fresh tenant is a fresh, empty store: tenants never see each other's events.
let tenants = 0;
describeEventStoreContract('Postgres through the Neon driver', () =>
  createPostgresEventStore(neonDatabase(pool), { tenant: `contract-${tenants++}` }),
);

describe('migrations', () => {
  it('are idempotent and safe when instances start at once', async () => {
    const again = await Promise.all([1, 2, 3].map(() => migrate(neonDatabase(pool))));
    expect(again).toEqual([[], [], []]);
    const { rows } = await pool.query('SELECT version FROM strata_migrations ORDER BY version');
    expect(rows).toEqual(MIGRATIONS.map(({ version }) => ({ version })));
  });

  it('apply from scratch with racing instances exactly once', async () => {
    const fresh = await createTestDatabase();
    const freshPool = fresh.createPool({ max: 6 });
    try {
      const results = await Promise.all([1, 2, 3].map(() => migrate(neonDatabase(freshPool))));
      expect(results.flat().sort((a, b) => a - b)).toEqual(
        MIGRATIONS.map(({ version }) => version),
      );
    } finally {
      await freshPool.end();
      await fresh.drop();
    }
  });
});

describe('racing appends (no lock for exact expected versions: the unique indexes decide)', () => {
  const note = { aggregateType: 'Note', aggregateId: 'n1' };

  it('the same events appended six times at once (a retried push still running) store once', async () => {
    const store = createPostgresEventStore(neonDatabase(pool), { tenant: 'race-retry' });
    const events = [newNote(), newNote()];
    const results = await Promise.all(
      Array.from({ length: 6 }, () => store.append(note, events, { expectedVersion: NO_STREAM })),
    );
    expect(results.filter((result) => !result.alreadyStored)).toHaveLength(1);
    expect(new Set(results.map((result) => result.events.map((e) => e.position).join()))).toEqual(
      new Set([results[0]?.events.map((e) => e.position).join()]),
    );
    expect(await store.readStream(note)).toHaveLength(2);
  });

  it('different events at one expected version: one wins, the others get typed conflicts', async () => {
    const store = createPostgresEventStore(neonDatabase(pool), { tenant: 'race-conflict' });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, () =>
        store.append(note, [newNote()], { expectedVersion: NO_STREAM }),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') {
        expect(outcome.reason).toMatchObject({ code: 'VERSION_CONFLICT', actualVersion: 1 });
      }
    }
  });

  it('an id stored elsewhere is DUPLICATE_EVENT_ID, also when it races', async () => {
    const store = createPostgresEventStore(neonDatabase(pool), { tenant: 'race-duplicate' });
    const shared = newNote();
    const outcomes = await Promise.allSettled(
      ['a', 'b', 'c'].map((aggregateId) =>
        store.append({ aggregateType: 'Note', aggregateId }, [shared], {
          expectedVersion: NO_STREAM,
        }),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') {
        expect(outcome.reason).toMatchObject({ code: 'DUPLICATE_EVENT_ID' });
      }
    }
  });
});
