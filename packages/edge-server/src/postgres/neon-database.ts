import type { Pool } from '@neondatabase/serverless';
import type { SqlDatabase } from './sql-database.ts';

/**
 * A `SqlDatabase` over a Neon driver `Pool` (WebSocket Postgres protocol): the production path
 * on edge runtimes. Each transaction holds one pooled connection from BEGIN to COMMIT.
 *
 * @example
 * const db = neonDatabase(new Pool({ connectionString: env.DATABASE_URL }));
 */
export function neonDatabase(pool: Pool): SqlDatabase {
  // An idle pooled connection that dies (restart, idle timeout, admin termination) is dropped by
  // the pool; without a listener its 'error' event would crash the process.
  if (pool.listenerCount('error') === 0) pool.on('error', () => undefined);
  return {
    query: async (text, params = []) => {
      const result = await pool.query(text, [...params]);
      return { rows: result.rows };
    },
    async transaction(work) {
      const client = await pool.connect();
      // A connection whose ROLLBACK failed is in an unknown state: release it as broken.
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await work({
          query: async (text, params = []) => ({
            rows: (await client.query(text, [...params])).rows,
          }),
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken =
            rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        });
        throw error;
      } finally {
        client.release(broken);
      }
    },
  };
}
