import type { Migration } from '../migrations/migration.ts';

/**
 * Schema of the encryption keys per aggregate (crypto-shredding, issue 7). A key is active while
 * `key` holds its raw bytes (base64url: text reads back alike from every driver); forgetting
 * nulls the bytes and stamps `forgotten_at`, leaving a tombstone so readers can tell "forgotten"
 * from "never known" (a key only a client holds). A stream has at most one active key; after a
 * deletion it may get a new one, under a new kid.
 */
export const KEY_STORE_MIGRATION: Migration = {
  version: 6,
  name: 'encryption keys per aggregate',
  sql: `
    CREATE TABLE strata_encryption_keys (
      tenant text NOT NULL,
      kid text NOT NULL,
      aggregate_type text NOT NULL,
      aggregate_id text NOT NULL,
      key text,
      created_at timestamptz NOT NULL DEFAULT now(),
      forgotten_at timestamptz,
      PRIMARY KEY (tenant, kid),
      CHECK ((key IS NULL) = (forgotten_at IS NOT NULL))
    );
    CREATE UNIQUE INDEX strata_encryption_keys_active
      ON strata_encryption_keys (tenant, aggregate_type, aggregate_id)
      WHERE forgotten_at IS NULL;
  `,
};

/**
 * Tombstones by aggregate: an append that brings a snapshot checks that its aggregate was not
 * forgotten after the snapshot's state was taken (append-to-stream.ts), one index lookup.
 */
export const FORGOTTEN_KEYS_MIGRATION: Migration = {
  version: 11,
  name: 'forgotten keys by aggregate, for snapshot saves',
  sql: `
    CREATE INDEX strata_encryption_keys_forgotten
      ON strata_encryption_keys (tenant, aggregate_type, aggregate_id, forgotten_at)
      WHERE forgotten_at IS NOT NULL;
  `,
};
