import type { Migration } from '../migrations/migration.ts';

/** Schema of the transactional outbox. */
export const OUTBOX_MIGRATION: Migration = {
  version: 3,
  name: 'transactional outbox',
  sql: 'SELECT 1', // TODO(issue 7): tables
};
