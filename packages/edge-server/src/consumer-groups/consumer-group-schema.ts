import type { Migration } from '../migrations/migration.ts';

/**
 * Schema of the persistent subscriptions with consumer groups (issue 7). A group splits the
 * events into a fixed number of partitions by aggregate; each partition has its own checkpoint
 * (a global cursor), a lease (owner and expiry) and the failure count of its head event.
 */
export const CONSUMER_GROUPS_MIGRATION: Migration = {
  version: 4,
  name: 'persistent subscriptions with consumer groups',
  sql: `
    CREATE TABLE strata_consumer_groups (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      -- NULL: a server-side group over every tenant's events.
      tenant text,
      name text NOT NULL,
      partitions integer NOT NULL CHECK (partitions BETWEEN 1 AND 1024),
      max_attempts integer NOT NULL CHECK (max_attempts >= 1),
      retry_base_ms integer NOT NULL CHECK (retry_base_ms >= 0),
      retry_max_ms integer NOT NULL CHECK (retry_max_ms >= 0),
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE NULLS NOT DISTINCT (tenant, name)
    );
    CREATE TABLE strata_consumer_group_partitions (
      group_id bigint NOT NULL REFERENCES strata_consumer_groups (id) ON DELETE CASCADE,
      partition integer NOT NULL,
      checkpoint_transaction_id xid8 NOT NULL DEFAULT '0',
      checkpoint_position bigint NOT NULL DEFAULT 0,
      owner text,
      lease_until timestamptz,
      -- Failed attempts at the event right after the checkpoint; an advance resets them.
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      retry_at timestamptz,
      PRIMARY KEY (group_id, partition)
    );
    CREATE TABLE strata_consumer_group_members (
      group_id bigint NOT NULL REFERENCES strata_consumer_groups (id) ON DELETE CASCADE,
      consumer_id text NOT NULL,
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (group_id, consumer_id)
    );
    CREATE TABLE strata_consumer_group_parked (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      group_id bigint NOT NULL REFERENCES strata_consumer_groups (id) ON DELETE CASCADE,
      partition integer NOT NULL,
      event_position bigint NOT NULL,
      error text NOT NULL,
      attempts integer NOT NULL,
      parked_at timestamptz NOT NULL DEFAULT now(),
      -- 'parked' waits for an operator; 'queued' is redelivered to the group by its next claims.
      state text NOT NULL DEFAULT 'parked' CHECK (state IN ('parked', 'queued')),
      owner text,
      lease_until timestamptz,
      UNIQUE (group_id, event_position)
    );
    CREATE INDEX strata_consumer_group_parked_queued
      ON strata_consumer_group_parked (group_id, state, id);
  `,
};
