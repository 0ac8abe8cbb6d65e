/**
 * Fresh in-memory PGlites for tests, loaded from the run's dumps (see global-setup.ts) in about
 * a second instead of initdb (+ migrations). Outside the unit tier (no dump provided) they are
 * made the slow way, so the helpers work in any project.
 */
import { readFile } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { migrate, pgliteDatabase } from '@strata/edge-server';
import { inject } from 'vitest';
import './provided-context.ts';

const dumps = new Map<string, Promise<Blob>>();

async function loadDump(file: string): Promise<PGlite> {
  let dump = dumps.get(file);
  if (dump === undefined) {
    dump = readFile(file).then((bytes) => new Blob([new Uint8Array(bytes)]));
    dumps.set(file, dump);
  }
  return PGlite.create({ loadDataDir: await dump });
}

/** A new PGlite with no strata table (a database before its first migration); caller closes it. */
export async function createBlankPglite(): Promise<PGlite> {
  const file = inject('blankPgliteDataDir');
  return file === undefined ? PGlite.create() : loadDump(file);
}

/** A new PGlite with every strata migration applied; the caller closes it. */
export async function createMigratedPglite(): Promise<PGlite> {
  const file = inject('migratedPgliteDataDir');
  if (file !== undefined) return loadDump(file);
  const pglite = await PGlite.create();
  await migrate(pgliteDatabase(pglite));
  return pglite;
}
