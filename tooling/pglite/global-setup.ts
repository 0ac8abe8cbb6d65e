/**
 * Vitest global setup of the unit tier: one migrated PGlite data directory per run, dumped to a
 * temporary file whose path tests receive with `inject('migratedPgliteDataDir')`.
 *
 * Why: `PGlite.create()` runs initdb inside WebAssembly every time (seconds per test file, and
 * tens of seconds on a loaded 2-core machine), then every file migrated its own. Loading a dump
 * skips both. Built fresh each run from the current migrations, so it is never stale.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { migrate, pgliteDatabase } from '@strata/edge-server';
import type { TestProject } from 'vitest/node';
import './provided-context.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-pglite-'));
  const pglite = await PGlite.create();
  try {
    await migrate(pgliteDatabase(pglite));
    const dump = await pglite.dumpDataDir('none');
    const file = join(dir, 'migrated.tar');
    await writeFile(file, new Uint8Array(await dump.arrayBuffer()));
    project.provide('migratedPgliteDataDir', file);
  } finally {
    await pglite.close();
  }
  return () => rm(dir, { recursive: true, force: true });
}
