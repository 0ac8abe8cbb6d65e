import type { Migration } from '../migrations/migration.ts';

/**
 * Scoped sync (issue 15): each scope is a materialized log of rows, written in the append's
 * transaction and read by one index range scan per scope, so a device's catch-up costs what its
 * scopes hold, not what the tenant holds.
 *
 * `strata_scope_rows`: `eff` is the tenant position at which the row became part of the scope,
 * `tenant_position` the event's own position. An event in scope S at position p is (S, p, p);
 * an aggregate joining S at p brings ALL its events as (S, p, their positions), so a device
 * following S receives the whole aggregate at the point it joined, in history order; leaving S
 * at q is a `left` row (S, q, q). The primary key is the read order. Rows of one `eff` come from
 * one append, so a committed `eff` is complete (tenant positions commit in order).
 *
 * `strata_scope_memberships`: each aggregate's scope keys after its last event, read by the
 * next append to run the membership fold from there (and by the write check).
 */
export const SCOPES_MIGRATION: Migration = {
  version: 9,
  name: 'scope rows and scope memberships, for scoped sync',
  sql: `
    CREATE TABLE strata_scope_rows (
      tenant text NOT NULL,
      scope text NOT NULL,
      eff bigint NOT NULL,
      tenant_position bigint NOT NULL CHECK (tenant_position <= eff),
      kind text NOT NULL CHECK (kind IN ('event', 'left')),
      aggregate_type text NOT NULL,
      aggregate_id text NOT NULL,
      PRIMARY KEY (tenant, scope, eff, tenant_position)
    );
    CREATE TABLE strata_scope_memberships (
      tenant text NOT NULL,
      aggregate_type text NOT NULL,
      aggregate_id text NOT NULL,
      scopes text[] NOT NULL,
      PRIMARY KEY (tenant, aggregate_type, aggregate_id)
    );
  `,
};
