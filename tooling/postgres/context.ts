/** Connection info that the `pg` tier's global setup hands to test files through `inject()`. */
export interface TestPostgres {
  /** `postgres://user@host:port/database` of the server's admin database. */
  readonly databaseUrl: string;
  /** Port of the WebSocket-to-TCP proxy on 127.0.0.1 that the Neon driver connects through. */
  readonly wsProxyPort: number;
  /** True when the setup started a throwaway cluster (false: `STRATA_TEST_DATABASE_URL`). */
  readonly throwaway: boolean;
}

declare module 'vitest' {
  export interface ProvidedContext {
    strataPostgres: TestPostgres;
  }
}
