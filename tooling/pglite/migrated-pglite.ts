/**
 * A fresh, migrated in-memory PGlite for a test, loaded from the run's dump (see
 * global-setup.ts) in about a second instead of initdb + migrations. Outside the unit tier (no
 * dump provided) it is made the slow way, so the helper works in any project.
 */
import { readFile } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { migrate, pgliteDatabase } from '@strata/edge-server';
import { inject } from 'vitest';
import './provided-context.ts';

let dump: Promise<Blob> | undefined;

/** A new PGlite with every strata migration applied; the caller closes it. */
export async function createMigratedPglite(): Promise<PGlite> {
  const file = inject('migratedPgliteDataDir');
  if (file === undefined) {
    const pglite = await PGlite.create();
    await migrate(pgliteDatabase(pglite));
    return pglite;
  }
  dump ??= readFile(file).then((bytes) => new Blob([new Uint8Array(bytes)]));
  return PGlite.create({ loadDataDir: await dump });
}
