import { describeEventStoreContract } from '@strata/core/testing';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { openStrataDatabase } from '../database/strata-database.ts';
import { createDexieEventStore } from './dexie-event-store.ts';

// fake-indexeddb: fast and exact enough for the contract; the browser tier repeats this in
// real Chromium.
let counter = 0;
describeEventStoreContract(
  'Dexie on fake-indexeddb',
  async () =>
    createDexieEventStore(
      await openStrataDatabase({
        name: `contract-${counter++}`,
        indexedDB: new IDBFactory(),
        IDBKeyRange,
      }),
    ),
  { dispose: (store) => (store as ReturnType<typeof createDexieEventStore>).db.close() },
);
