import { StorageFailedError } from '@strata/core';
import type { StrataDatabase } from './strata-database.ts';

/** The sync state key every strata database holds from its first open (create-strata.ts). */
export const CLIENT_ID_KEY = 'clientId';

/**
 * Throws unless the database still holds this device's client id: a database deleted under the
 * running app (site data cleared) and recreated empty by the next access has none, and a write
 * of what this tab remembers (a cursor read from the deleted one) must not land in it. Call it
 * inside the write's transaction (the sync state table in its scope).
 *
 * @example
 * await db.transaction('rw', db.tables, async () => { await assertDatabaseKept(db); ... });
 */
export async function assertDatabaseKept(db: StrataDatabase): Promise<void> {
  if ((await db.syncState.get(CLIENT_ID_KEY)) !== undefined) return;
  throw new StorageFailedError('The local database was deleted while the app ran', {
    reason: 'ABORTED',
  });
}
