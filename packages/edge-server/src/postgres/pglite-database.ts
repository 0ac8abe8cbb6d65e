import type { PGlite, Transaction } from '@electric-sql/pglite';
import { toDatabaseError } from './connection-errors.ts';
import type { SqlDatabase, SqlExecutor } from './sql-database.ts';

function executor(target: PGlite | Transaction): SqlExecutor {
  return {
    async query<TRow>(text: string, params: readonly unknown[] = []) {
      try {
        // Parameterless calls may hold several statements (migrations): `exec` runs them all.
        if (params.length === 0) {
          const results = await target.exec(text);
          return { rows: (results.at(-1)?.rows ?? []) as TRow[] };
        }
        return { rows: (await target.query<TRow>(text, [...params])).rows };
      } catch (error) {
        throw toDatabaseError(error);
      }
    },
  };
}

/**
 * A `SqlDatabase` over PGlite, Postgres compiled to WebAssembly and run in process: the embedded
 * default, so a fresh checkout needs no database server. A closed PGlite (e.g. during shutdown)
 * is thrown as `UnavailableError` (503, Retry-After), as a lost connection is on the Neon driver.
 *
 * @example
 * const db = pgliteDatabase(await PGlite.create('./.data/strata'));
 */
export function pgliteDatabase(pglite: PGlite): SqlDatabase {
  return {
    ...executor(pglite),
    async transaction(work) {
      try {
        return await pglite.transaction((tx) => work(executor(tx)));
      } catch (error) {
        throw toDatabaseError(error);
      }
    },
  };
}
