/**
 * What the unit tier's global setup provides to tests (`inject(...)`), declared once where both
 * the setup and the tests' helpers see it.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    /** A tarball of a PGlite data directory as initdb leaves it: no strata table yet. */
    blankPgliteDataDir: string;
    /** A tarball of a PGlite data directory with every strata migration applied. */
    migratedPgliteDataDir: string;
  }
}

export {};
