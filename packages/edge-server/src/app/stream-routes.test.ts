import { PGlite } from '@electric-sql/pglite';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import { describeStreamRoutes } from './stream-routes-suite.ts';

describeStreamRoutes('PGlite', async () => {
  const pglite = await PGlite.create();
  return { database: pgliteDatabase(pglite), close: () => pglite.close() };
});
