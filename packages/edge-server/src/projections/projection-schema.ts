import type { Migration } from '../migrations/migration.ts';

/** Schema of the async projections' checkpoints. */
export const PROJECTIONS_MIGRATION: Migration = {
  version: 5,
  name: 'async projection checkpoints',
  sql: `
    CREATE TABLE strata_projection_checkpoints (
      name text PRIMARY KEY,
      -- A global cursor ('<transaction id>.<position>'): the last event the projection applied.
      cursor text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
  `,
};
