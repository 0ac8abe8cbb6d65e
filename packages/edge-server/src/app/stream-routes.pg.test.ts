import { createTestDatabase } from '../../../../tooling/postgres/neon.ts';
import { neonDatabase } from '../postgres/neon-database.ts';
import { describeStreamRoutes } from './stream-routes-suite.ts';

describeStreamRoutes('Postgres through the Neon driver', async () => {
  const database = await createTestDatabase();
  const pool = database.createPool({ max: 6 });
  return {
    database: neonDatabase(pool),
    async close() {
      await pool.end();
      await database.drop();
    },
  };
});
