import type { Migration } from '../migrations/migration.ts';

/** Schema of the persistent subscriptions with consumer groups. */
export const CONSUMER_GROUPS_MIGRATION: Migration = {
  version: 4,
  name: 'persistent subscriptions with consumer groups',
  sql: 'SELECT 1', // TODO(issue 7): tables
};
