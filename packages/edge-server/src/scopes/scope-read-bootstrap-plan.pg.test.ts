// A bootstrap read's cost must follow the scopes' rows as the plain read's does (see
// scope-read-plan.pg.test.ts): the snapshot filter is a key lookup per row the scan reads (its
// snapshot, and for a scope row with one its event), never a scan of strata_snapshots or
// strata_events. Checked on the plan Postgres chooses for the statement readScopes really sends,
// on ANALYZEd tables big enough that a scan would be chosen if the keys did not serve it.
import { createTestDatabase, type Pool, type TestDatabase } from '@strata/tooling/postgres/neon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectKey } from '../../test/fixtures/scopes/scoped-tasks.ts';
import { seedScopedTenant } from '../../test/fixtures/scopes/seed-scoped-tenant.ts';
import { migrate } from '../migrations/migrations.ts';
import { neonDatabase } from '../postgres/neon-database.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import { readScopes, type ScopeReadRequest } from './read-scopes.ts';

let database: TestDatabase;
let pool: Pool;
const HOT = projectKey('hot');
const SNAPSHOTS = { Task: 'f' };

beforeAll(async () => {
  database = await createTestDatabase();
  pool = database.createPool({ max: 4 });
  const db = neonDatabase(pool);
  await migrate(db);
  for (const tenant of ['big', 'neighbour']) {
    await seedScopedTenant(db, {
      tenant,
      events: 60_000,
      hotEvery: 100,
      hotScope: HOT,
      coldScopes: 50,
    });
    // Every other task has a snapshot, half of them of the fingerprint the reads name.
    await db.query(
      `INSERT INTO strata_snapshots (tenant, aggregate_type, aggregate_id, version, state, fingerprint, taken_at)
       SELECT $1, 'Task', $1 || '-t' || i, 1, '{}'::jsonb, CASE WHEN i % 4 = 0 THEN 'f' ELSE 'g' END, now()
       FROM generate_series(2, 60000, 2) AS i`,
      [tenant],
    );
  }
  // Many tenants' counters, as a deployment has: the horizon is a key lookup too.
  await db.query(
    "INSERT INTO strata_tenant_positions (tenant, last) SELECT 'idle-' || i, 1 FROM generate_series(1, 5000) AS i",
  );
  await db.query('ANALYZE strata_events');
  await db.query('ANALYZE strata_scope_rows');
  await db.query('ANALYZE strata_snapshots');
  await db.query('ANALYZE strata_tenant_positions');
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

interface PlanNode {
  'Node Type': string;
  'Join Type'?: string;
  'Parent Relationship'?: string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

/** The plan of the statement readScopes sends for `reads`, with the parameters it binds. */
async function planOf(reads: ScopeReadRequest[], limit: number): Promise<PlanNode[]> {
  const db = neonDatabase(pool);
  let plan: PlanNode | undefined;
  const explaining: SqlExecutor = {
    async query<TRow>(text: string, params?: readonly unknown[]) {
      if (plan === undefined && text.includes('WITH horizon')) {
        const { rows } = await db.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
          `EXPLAIN (FORMAT JSON) ${text}`,
          params,
        );
        plan = rows[0]?.['QUERY PLAN'][0].Plan;
      }
      return db.query<TRow>(text, params);
    },
  };
  await readScopes(explaining, 'big', reads, limit, SNAPSHOTS);
  if (plan === undefined) throw new Error('readScopes sent no scope read');
  return flatten(plan);
}

const flatten = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(flatten)];
const on = (nodes: PlanNode[], relation: string) =>
  nodes.filter((node) => node['Relation Name'] === relation);

describe('the bootstrap read plan (real Postgres, 120k events, 60k snapshots)', () => {
  it.each([
    ['one scope from the start', [{ scope: HOT, bootstrap: true }]],
    ['one scope from a cursor', [{ scope: HOT, after: 's30000.30000', bootstrap: true }]],
    [
      'bootstrap and plain scopes and the tenant',
      [
        { scope: HOT, bootstrap: true },
        { scope: projectKey('cold-7') },
        { scope: projectKey('cold-8'), after: 's100.100', bootstrap: true },
        { scope: 'tenant', after: 's59000.59000', bootstrap: true },
      ],
    ],
  ])('%s: index range scans and key lookups, never a sequential scan', async (_name, reads) => {
    const nodes = await planOf(reads, 100);
    expect(nodes.filter((node) => node['Node Type'] === 'Seq Scan')).toEqual([]);
    // The filter is a subplan per row read, not an anti join over the tenant's snapshots.
    expect(nodes.filter((node) => node['Join Type'] === 'Anti')).toEqual([]);
    expect(nodes.filter((node) => node['Parent Relationship'] === 'SubPlan')).toHaveLength(
      reads.filter((read) => read.bootstrap === true).length,
    );
    const scopeScans = on(nodes, 'strata_scope_rows');
    expect(scopeScans.length).toBe(reads.filter((read) => read.scope !== 'tenant').length);
    for (const scan of scopeScans) {
      expect(scan['Node Type']).toMatch(/^Index (Only )?Scan$/);
      expect(scan['Index Name']).toBe('strata_scope_rows_pkey');
      expect(scan['Index Cond']).toMatch(/ROW\(eff, tenant_position\) >/);
    }
    for (const scan of on(nodes, 'strata_snapshots')) {
      expect(scan['Node Type']).toMatch(/^Index (Only )?Scan$/);
      expect(scan['Index Name']).toBe('strata_snapshots_pkey');
      expect(scan['Index Cond']).toMatch(/aggregate_id = /);
    }
    for (const scan of on(nodes, 'strata_events')) {
      expect(scan['Node Type']).toMatch(/^Index (Only )?Scan$/);
      expect(scan['Index Name']).toBe('strata_events_tenant_position_key');
    }
  });
});
