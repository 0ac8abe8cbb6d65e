import type { Migration } from '../migrations/migration.ts';

/** Schema of the async projection checkpoints. */
export const PROJECTIONS_MIGRATION: Migration = {
  version: 5,
  name: 'async projection checkpoints',
  sql: 'SELECT 1', // TODO(issue 7): tables
};
