import type { SqlExecutor } from '../postgres/sql-database.ts';
import type { Migration } from './migration.ts';
import { MIGRATIONS } from './migrations.ts';

/** What a database's schema lacks, for the readiness check. */
export interface SchemaStatus {
  /** Versions recorded in `strata_migrations` that this build knows, in order. */
  readonly applied: readonly number[];
  /** Versions this build expects and the database lacks, in order: empty when current. */
  readonly pending: readonly number[];
}

/**
 * Compares the database's `strata_migrations` with the migrations this build ships (read only: it
 * never migrates). A database never migrated has every version pending.
 *
 * @example
 * const { pending } = await schemaStatus(database);
 * if (pending.length > 0) console.warn(`migrations ${pending.join(', ')} are not applied`);
 */
export async function schemaStatus(
  database: SqlExecutor,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<SchemaStatus> {
  // to_regclass answers null for a missing table, where a SELECT from it would fail.
  const { rows: tables } = await database.query<{ table: string | null }>(
    `SELECT to_regclass('strata_migrations')::text AS "table"`,
  );
  const recorded = new Set<number>();
  if (tables[0]?.table != null) {
    const { rows } = await database.query<{ version: number }>(
      'SELECT version FROM strata_migrations',
    );
    for (const row of rows) recorded.add(Number(row.version));
  }
  const versions = migrations.map((migration) => migration.version);
  return {
    applied: versions.filter((version) => recorded.has(version)),
    pending: versions.filter((version) => !recorded.has(version)),
  };
}
