import type { Migration } from '../migrations/migration.ts';

/**
 * One row: the log's identity, made with the database (issue 17). A reset database gets a new
 * one; a restore of a dump brings the dumped one back, which is why pulls also check an anchor
 * (see `checkLogAnchor`). `replaceLogIdentity` gives a restored database a new one on purpose.
 */
export const LOG_IDENTITY_MIGRATION: Migration = {
  version: 12,
  name: 'the log identity, so clients notice a reset or replaced database',
  sql: `
    CREATE TABLE strata_log_identity (
      singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
      log_id text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    INSERT INTO strata_log_identity (log_id) VALUES (gen_random_uuid()::text);
  `,
};
