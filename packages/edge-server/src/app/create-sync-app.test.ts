import { PGlite } from '@electric-sql/pglite';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import { describeSyncApp } from './sync-app-suite.ts';

describeSyncApp('PGlite', async () => {
  const pglite = await PGlite.create();
  return { database: pgliteDatabase(pglite), close: () => pglite.close() };
});
