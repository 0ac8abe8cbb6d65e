import { describeEventStoreContract } from '@strata/core/testing';
import { openStrataDatabase } from '../database/strata-database.ts';
import { createDexieEventStore, type DexieEventStore } from './dexie-event-store.ts';

// The same contract on Chromium's real IndexedDB.
let counter = 0;
describeEventStoreContract(
  'Dexie in Chromium',
  async () =>
    createDexieEventStore(
      await openStrataDatabase({ name: `contract-${Date.now()}-${counter++}` }),
    ),
  {
    dispose: async (store) => {
      const { db } = store as DexieEventStore;
      db.close();
      await db.delete();
    },
  },
);
