// The scope read's cost must follow the scopes' rows, not the tenant's size (issue 15): each
// scope is an index range scan on strata_scope_rows and each event a lookup by its tenant
// position. Checked on the plan Postgres chooses for the statement readScopes really sends, on
// a table big enough (and ANALYZEd) that a sequential scan would be chosen if the index did not
// serve the query.
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

beforeAll(async () => {
  database = await createTestDatabase();
  pool = database.createPool({ max: 4 });
  const db = neonDatabase(pool);
  await migrate(db);
  // Two tenants, so neither `tenant = $1` nor the scope alone picks the rows.
  for (const tenant of ['big', 'neighbour']) {
    await seedScopedTenant(db, {
      tenant,
      events: 60_000,
      hotEvery: 100,
      hotScope: HOT,
      coldScopes: 50,
    });
  }
  // Many tenants' counters, as a deployment has: the horizon is a key lookup too.
  await db.query(
    "INSERT INTO strata_tenant_positions (tenant, last) SELECT 'idle-' || i, 1 FROM generate_series(1, 5000) AS i",
  );
  await db.query('ANALYZE strata_events');
  await db.query('ANALYZE strata_scope_rows');
  await db.query('ANALYZE strata_tenant_positions');
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

interface PlanNode {
  'Node Type': string;
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
      if (plan === undefined && text.includes('strata_scope_rows')) {
        const { rows } = await db.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
          `EXPLAIN (FORMAT JSON) ${text}`,
          params,
        );
        plan = rows[0]?.['QUERY PLAN'][0].Plan;
      }
      return db.query<TRow>(text, params);
    },
  };
  await readScopes(explaining, 'big', reads, limit);
  if (plan === undefined) throw new Error('readScopes sent no scope read');
  return flatten(plan);
}

const flatten = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(flatten)];
const on = (nodes: PlanNode[], relation: string) =>
  nodes.filter((node) => node['Relation Name'] === relation);

describe('the scope read plan (real Postgres, 120k events and scope rows)', () => {
  it.each([
    ['one scope from the start', [{ scope: HOT }]],
    ['one scope from a cursor', [{ scope: HOT, after: 's30000.30000' }]],
    [
      'three scopes and the tenant',
      [
        { scope: HOT },
        { scope: projectKey('cold-7') },
        { scope: projectKey('cold-8'), after: 's100.100' },
        { scope: 'tenant', after: 's59000.59000' },
      ],
    ],
  ])('%s: index range scans, never a sequential scan', async (_name, reads) => {
    const nodes = await planOf(reads, 100);
    const seqScans = nodes.filter((node) => node['Node Type'] === 'Seq Scan');
    expect(seqScans.map((node) => node['Relation Name'])).toEqual([]);
    const scopeScans = on(nodes, 'strata_scope_rows');
    expect(scopeScans.length).toBe(reads.filter((read) => read.scope !== 'tenant').length);
    for (const scan of scopeScans) {
      expect(scan['Node Type']).toMatch(/^Index (Only )?Scan$/);
      expect(scan['Index Name']).toBe('strata_scope_rows_pkey');
      // The range itself is an index condition, not a filter over the tenant's rows.
      expect(scan['Index Cond']).toMatch(/scope = /);
      expect(scan['Index Cond']).toMatch(/ROW\(eff, tenant_position\) >/);
    }
    for (const scan of on(nodes, 'strata_events')) {
      expect(scan['Node Type']).toMatch(/^Index (Only )?Scan$/);
      expect(scan['Index Name']).toBe('strata_events_tenant_position_key');
    }
  });
});
