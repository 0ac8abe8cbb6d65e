/** Test code only: the two databases the app suites run against. */
import { createBlankPglite } from '@strata/tooling/pglite/test-pglite';
import { createTestDatabase } from '@strata/tooling/postgres/neon';
import { neonDatabase } from '../../src/postgres/neon-database.ts';
import { pgliteDatabase } from '../../src/postgres/pglite-database.ts';
import type { SqlDatabase } from '../../src/postgres/sql-database.ts';

/** A database for one run of a suite, and how to close it. */
export interface SuiteDatabase {
  readonly database: SqlDatabase;
  close(): Promise<void>;
}

/** PGlite in memory (unit tier), before its first migration, as a fresh Postgres database is. */
export async function pgliteSuiteDatabase(): Promise<SuiteDatabase> {
  const pglite = await createBlankPglite();
  return { database: pgliteDatabase(pglite), close: () => pglite.close() };
}

/** A fresh database on the pg tier's Postgres, through the Neon driver. */
export async function neonSuiteDatabase(): Promise<SuiteDatabase> {
  const database = await createTestDatabase();
  const pool = database.createPool({ max: 6 });
  return {
    database: neonDatabase(pool),
    async close() {
      await pool.end();
      await database.drop();
    },
  };
}
