/**
 * The little strata needs from a Postgres driver, so one store runs on the Neon driver
 * (production), PGlite (embedded default) and anything else that speaks SQL with $n parameters.
 */
export interface SqlExecutor {
  query<TRow = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
  ): Promise<{ rows: TRow[] }>;
}

/** A database: queries, plus transactions that commit when `work` resolves and roll back when it throws. */
export interface SqlDatabase extends SqlExecutor {
  transaction<T>(work: (transaction: SqlExecutor) => Promise<T>): Promise<T>;
}
