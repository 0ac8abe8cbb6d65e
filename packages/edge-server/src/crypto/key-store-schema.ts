import type { Migration } from '../migrations/migration.ts';

/** Schema of the encryption keys per aggregate. */
export const KEY_STORE_MIGRATION: Migration = {
  version: 6,
  name: 'encryption keys per aggregate',
  sql: 'SELECT 1', // TODO(issue 7): tables
};
