/**
 * Vitest global setup of the unit tier: two PGlite data directories per run, dumped to temporary
 * files whose paths tests receive with `inject(...)`: a blank one (just after initdb) and one with
 * every strata migration applied.
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
  const dumpTo = async (pglite: PGlite, name: string) => {
    const file = join(dir, name);
    const dump = await pglite.dumpDataDir('none');
    await writeFile(file, new Uint8Array(await dump.arrayBuffer()));
    return file;
  };
  const pglite = await PGlite.create();
  try {
    project.provide('blankPgliteDataDir', await dumpTo(pglite, 'blank.tar'));
    await migrate(pgliteDatabase(pglite));
    project.provide('migratedPgliteDataDir', await dumpTo(pglite, 'migrated.tar'));
  } finally {
    await pglite.close();
  }
  return () => rm(dir, { recursive: true, force: true });
}
