import { ANY } from '@strata/core';
import { describeEventStoreContract } from '@strata/core/testing';
import { describe, expect, it } from 'vitest';
import { newNote } from '../../test/fixtures/first-note.ts';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { pgliteDatabase } from './pglite-database.ts';
import { createPostgresEventStore } from './postgres-event-store.ts';

// The embedded default: the same store and migrations on PGlite, in memory.
const pglite = useMigratedPglite();

let tenants = 0;
describeEventStoreContract('Postgres store on PGlite', () =>
  createPostgresEventStore(pgliteDatabase(pglite()), { tenant: `contract-${tenants++}` }),
);

describe('snapshots given to an append', () => {
  it('are saved only for the version the append reached (ANY may land later than the caller thought)', async () => {
    const store = createPostgresEventStore(pgliteDatabase(pglite()), { tenant: 'snapshots' });
    const note = { aggregateType: 'Note', aggregateId: 'n1' };
    const snapshotAt = (version: number) => ({
      ...note,
      version,
      state: { version },
      fingerprint: 'f',
      takenAt: new Date().toISOString(),
    });
    await store.append(note, [newNote()], { expectedVersion: ANY });
    // The caller loaded an empty stream and thinks its event becomes version 1; it became 2.
    await store.append(note, [newNote()], { expectedVersion: ANY, snapshot: snapshotAt(1) });
    expect(await store.loadSnapshot(note)).toBeUndefined();
    await store.append(note, [newNote()], { expectedVersion: ANY, snapshot: snapshotAt(3) });
    expect((await store.loadSnapshot(note))?.version).toBe(3);
  });
});
