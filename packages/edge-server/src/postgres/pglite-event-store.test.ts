import { PGlite } from '@electric-sql/pglite';
import { describeEventStoreContract } from '@strata/core/testing';
import { afterAll, beforeAll } from 'vitest';
import { migrate } from '../migrations/migrations.ts';
import { pgliteDatabase } from './pglite-database.ts';
import { createPostgresEventStore } from './postgres-event-store.ts';

// The embedded default: the same store and migrations on PGlite, in memory.
let pglite: PGlite;

beforeAll(async () => {
  pglite = await PGlite.create();
  await migrate(pgliteDatabase(pglite));
}, 60_000);

afterAll(async () => {
  await pglite?.close();
});

let tenants = 0;
describeEventStoreContract('Postgres store on PGlite', () =>
  createPostgresEventStore(pgliteDatabase(pglite), { tenant: `contract-${tenants++}` }),
);
