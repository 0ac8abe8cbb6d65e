// The store contract again with every stream encrypted at rest: a retry is recognised (and a
// reused id with other content refused) by comparing decrypted data, not ciphertext, which
// differs on every encryption (issue 12, item 12).
import { describeEventStoreContract } from '@strata/core/testing';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { pgliteDatabase } from './pglite-database.ts';
import { createPostgresEventStore } from './postgres-event-store.ts';

const pglite = useMigratedPglite();

let tenants = 0;
describeEventStoreContract('Postgres store on PGlite, streams encrypted at rest', () =>
  createPostgresEventStore(pgliteDatabase(pglite()), {
    tenant: `encrypted-${tenants++}`,
    encryption: { encrypts: () => true },
  }),
);
