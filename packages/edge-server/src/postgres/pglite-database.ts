import type { PGlite, Transaction } from '@electric-sql/pglite';
import type { SqlDatabase, SqlExecutor } from './sql-database.ts';

function executor(target: PGlite | Transaction): SqlExecutor {
  return {
    async query<TRow>(text: string, params: readonly unknown[] = []) {
      // Parameterless calls may hold several statements (migrations): `exec` runs them all.
      if (params.length === 0) {
        const results = await target.exec(text);
        return { rows: (results.at(-1)?.rows ?? []) as TRow[] };
      }
      return { rows: (await target.query<TRow>(text, [...params])).rows };
    },
  };
}

/**
 * A `SqlDatabase` over PGlite, Postgres compiled to WebAssembly and run in process: the embedded
 * default, so a fresh checkout needs no database server.
 *
 * @example
 * const db = pgliteDatabase(await PGlite.create('./.data/strata'));
 */
export function pgliteDatabase(pglite: PGlite): SqlDatabase {
  return {
    ...executor(pglite),
    transaction: (work) => pglite.transaction((tx) => work(executor(tx))),
  };
}
