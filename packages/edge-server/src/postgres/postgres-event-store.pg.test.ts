import { describeEventStoreContract } from '@strata/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  type Pool,
  type TestDatabase,
} from '../../../../tooling/postgres/neon.ts';
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
