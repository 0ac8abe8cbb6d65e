// A database that counts the statements sent through it (a transaction's BEGIN and COMMIT
// included), so a bench can say how many round trips each variant costs, not only how long.
import type { SqlDatabase, SqlExecutor } from '../../src/postgres/sql-database.ts';

export interface CountingDatabase {
  readonly database: SqlDatabase;
  /** Statements sent so far. */
  readonly statements: number;
}

/** Wraps `db`; every query, and each transaction's BEGIN and COMMIT, counts one. */
export function countingDatabase(db: SqlDatabase): CountingDatabase {
  let statements = 0;
  const counting = (executor: SqlExecutor): SqlExecutor => ({
    query: (text, params) => {
      statements++;
      return executor.query(text, params);
    },
  });
  const database: SqlDatabase = {
    ...counting(db),
    transaction: (work) => {
      statements += 2;
      return db.transaction((transaction) => work(counting(transaction)));
    },
  };
  return {
    database,
    get statements() {
      return statements;
    },
  };
}
