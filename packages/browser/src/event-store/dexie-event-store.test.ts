import { NO_STREAM, newKsuid } from '@strata/core';
import { describeEventStoreContract } from '@strata/core/testing';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
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

describe('expectedLastEventId', () => {
  const stream = { aggregateType: 'Note', aggregateId: 'n1' };
  const note = (n: number) => ({
    id: newKsuid(),
    type: 'Noted',
    schemaVersion: 1,
    occurredAt: new Date().toISOString(),
    data: { n },
    metadata: {},
  });

  it('refuses an append decided on replaced events, even at the same version', async () => {
    const store = createDexieEventStore(
      await openStrataDatabase({ name: 'tip', indexedDB: new IDBFactory(), IDBKeyRange }),
    );
    const [first] = (await store.append(stream, [note(1)], { expectedVersion: NO_STREAM })).events;
    // What a sync rebase does: the decision was made on `first`, which another event replaced.
    const stale = store.append(stream, [note(2)], {
      expectedVersion: 1,
      expectedLastEventId: newKsuid(),
    });
    await expect(stale).rejects.toMatchObject({ code: 'VERSION_CONFLICT', actualVersion: 1 });
    expect(await store.readStream(stream)).toHaveLength(1);

    const current = await store.append(stream, [note(2)], {
      expectedVersion: 1,
      expectedLastEventId: first?.id as string,
    });
    expect(current.version).toBe(2);
    store.db.close();
  });
});
