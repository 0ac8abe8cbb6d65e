import { COMMAND_LOG_MIGRATION } from '../authority/command-log.ts';
import { CONSUMER_GROUPS_MIGRATION } from '../consumer-groups/consumer-group-schema.ts';
import { FORGOTTEN_KEYS_MIGRATION, KEY_STORE_MIGRATION } from '../crypto/key-store-schema.ts';
import { LOG_IDENTITY_MIGRATION } from '../log-identity/log-identity-schema.ts';
import { OUTBOX_MIGRATION } from '../outbox/outbox-schema.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import { TENANT_POSITIONS_MIGRATION } from '../postgres/tenant-positions-schema.ts';
import { PROJECTIONS_MIGRATION } from '../projections/projection-schema.ts';
import { SCOPE_INDEX_MIGRATION } from '../scopes/index-scopes.ts';
import { SCOPES_MIGRATION } from '../scopes/scope-schema.ts';
import type { Migration } from './migration.ts';

export type { Migration } from './migration.ts';

/** strata's schema, in order. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events and snapshots',
    sql: `
      CREATE TABLE strata_events (
        position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        -- The writing transaction: readers never pass a transaction that may still commit.
        transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        tenant text NOT NULL,
        id text NOT NULL,
        type text NOT NULL,
        schema_version integer NOT NULL,
        aggregate_type text NOT NULL,
        aggregate_id text NOT NULL,
        version integer NOT NULL CHECK (version >= 1),
        data jsonb NOT NULL,
        metadata jsonb NOT NULL,
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant, id),
        UNIQUE (tenant, aggregate_type, aggregate_id, version)
      );
      CREATE INDEX strata_events_global_order ON strata_events (tenant, transaction_id, position);
      CREATE TABLE strata_snapshots (
        tenant text NOT NULL,
        aggregate_type text NOT NULL,
        aggregate_id text NOT NULL,
        version integer NOT NULL,
        state jsonb NOT NULL,
        fingerprint text NOT NULL,
        taken_at timestamptz NOT NULL,
        PRIMARY KEY (tenant, aggregate_type, aggregate_id)
      );
    `,
  },
  {
    version: 2,
    name: 'global order across tenants, for the per-instance subscription reader',
    sql: 'CREATE INDEX strata_events_all_tenants_order ON strata_events (transaction_id, position);',
  },
  // Each feature keeps its tables next to its code.
  OUTBOX_MIGRATION,
  CONSUMER_GROUPS_MIGRATION,
  PROJECTIONS_MIGRATION,
  KEY_STORE_MIGRATION,
  TENANT_POSITIONS_MIGRATION,
  COMMAND_LOG_MIGRATION,
  SCOPES_MIGRATION,
  SCOPE_INDEX_MIGRATION,
  FORGOTTEN_KEYS_MIGRATION,
  LOG_IDENTITY_MIGRATION,
];

/** The channel appends notify, so every instance's reader wakes at once. */
export const EVENTS_CHANNEL = 'strata_events';

// Any fixed number: instances migrating at once queue on this lock instead of racing.
const MIGRATION_LOCK = 7_403_811_215;

/**
 * Applies the migrations a database lacks, each in its own transaction, recording them in
 * `strata_migrations`. Idempotent, and safe when several instances start at once (they take a
 * transaction-level advisory lock in turn). Returns the versions it applied.
 *
 * @example
 * await migrate(neonDatabase(pool)); // e.g. at startup, or `pnpm --filter @strata/edge-server migrate`
 */
export async function migrate(
  db: SqlDatabase,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  const applied: number[] = [];
  for (const migration of migrations) {
    const ran = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await tx.query(
        `CREATE TABLE IF NOT EXISTS strata_migrations (
           version integer PRIMARY KEY,
           name text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
      const { rows } = await tx.query('SELECT 1 FROM strata_migrations WHERE version = $1', [
        migration.version,
      ]);
      if (rows.length > 0) return false;
      await tx.query(migration.sql);
      await tx.query('INSERT INTO strata_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      return true;
    });
    if (ran) applied.push(migration.version);
  }
  return applied;
}
