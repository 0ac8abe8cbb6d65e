import { describeEventStoreContract } from '@strata/core/testing';
import { useMigratedPglite } from '../fixtures/migrated-pglite.ts';
import { pgliteDatabase } from './pglite-database.ts';
import { createPostgresEventStore } from './postgres-event-store.ts';

// The embedded default: the same store and migrations on PGlite, in memory.
const pglite = useMigratedPglite();

let tenants = 0;
describeEventStoreContract('Postgres store on PGlite', () =>
  createPostgresEventStore(pgliteDatabase(pglite()), { tenant: `contract-${tenants++}` }),
);
