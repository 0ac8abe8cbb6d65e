import { migrate, pgliteDatabase, schemaStatus } from '@strata/edge-server';
import { describe, expect, inject, it } from 'vitest';
import { createBlankPglite, createMigratedPglite } from './test-pglite.ts';

describe('test PGlites', () => {
  // Loading takes about a second; a loaded machine may need far longer.
  it('loads the run’s dump: every migration applied, each database its own', {
    timeout: 60_000,
  }, async () => {
    expect(inject('migratedPgliteDataDir')).toMatch(/migrated\.tar$/);
    const [a, b] = await Promise.all([createMigratedPglite(), createMigratedPglite()]);
    try {
      const status = await schemaStatus(pgliteDatabase(a));
      expect(status.pending).toEqual([]);
      expect(status.applied.length).toBeGreaterThan(5);
      await a.query(`INSERT INTO strata_tenant_positions (tenant, last) VALUES ('only-in-a', 1)`);
      const rows = async (db: typeof a) =>
        (await db.query(`SELECT tenant FROM strata_tenant_positions`)).rows;
      expect(await rows(a)).toEqual([{ tenant: 'only-in-a' }]);
      expect(await rows(b)).toEqual([]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('loads a blank one too: no strata table, migrations apply', { timeout: 60_000 }, async () => {
    expect(inject('blankPgliteDataDir')).toMatch(/blank\.tar$/);
    const blank = await createBlankPglite();
    try {
      expect((await schemaStatus(pgliteDatabase(blank))).applied).toEqual([]);
      await migrate(pgliteDatabase(blank));
      expect((await schemaStatus(pgliteDatabase(blank))).pending).toEqual([]);
    } finally {
      await blank.close();
    }
  });
});
