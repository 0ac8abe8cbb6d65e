import { pgliteDatabase, schemaStatus } from '@strata/edge-server';
import { describe, expect, inject, it } from 'vitest';
import { createMigratedPglite } from './migrated-pglite.ts';

describe('createMigratedPglite', () => {
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
});
