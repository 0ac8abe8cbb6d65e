// Snapshot bootstrap of scoped reads on real Postgres: a `bootstrap` read of a pull naming
// `snapshots` sends an aggregate as its server snapshot and the events from the snapshot's
// version on, in every span of it in the scope that reaches that version, and nothing else
// changes: other reads, other aggregates, paging, cursors, the database.
import { TENANT_SCOPE_NAME } from '@strata/core';
import { createTestDatabase, type Pool, type TestDatabase } from '@strata/tooling/postgres/neon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  created,
  describeItem,
  moved,
  projectKey,
  renamed,
  scopedTaskStore,
  userKey,
} from '../../test/fixtures/scopes/scoped-tasks.ts';
import { migrate } from '../migrations/migrations.ts';
import { neonDatabase } from '../postgres/neon-database.ts';
import { saveSnapshotRow } from '../postgres/snapshot-rows.ts';
import type { SqlDatabase, SqlExecutor } from '../postgres/sql-database.ts';
import { readScopes, type ScopeReadItem, type ScopeReadRequest } from './read-scopes.ts';

let database: TestDatabase;
let pool: Pool;
let db: SqlDatabase;

const P1 = projectKey('p1');
const P2 = projectKey('p2');
const ANN = userKey('ann');
const TAKEN = '2024-05-01T10:00:00.000Z';
const F1 = { Task: 'f1' };

/** An item, short; a snapshot with its scopes (describeItem leaves them out). */
const short = (item: ScopeReadItem) =>
  item.kind === 'snapshot'
    ? `${item.cursor} snapshot ${item.aggregateId} v${item.version} ${item.scopes.join(' ')}`
    : describeItem(item);

const snapshotOf = (aggregateId: string, version: number, fingerprint: string) => ({
  aggregateType: 'Task',
  aggregateId,
  version,
  state: { title: `${aggregateId} at v${version}`, tags: ['x', 1] },
  fingerprint,
  takenAt: TAKEN,
});

/** Every row a read could touch, to show reads change nothing. */
async function contents(tenant: string): Promise<unknown> {
  const { rows } = await db.query(
    `SELECT
       (SELECT json_agg(e ORDER BY tenant_position) FROM strata_events e WHERE tenant = $1) AS events,
       (SELECT json_agg(r ORDER BY scope, eff, tenant_position) FROM strata_scope_rows r
        WHERE tenant = $1) AS rows,
       (SELECT json_agg(s ORDER BY aggregate_id) FROM strata_snapshots s WHERE tenant = $1) AS snapshots,
       (SELECT json_agg(m ORDER BY aggregate_id) FROM strata_scope_memberships m
        WHERE tenant = $1) AS memberships,
       (SELECT last FROM strata_tenant_positions WHERE tenant = $1) AS last`,
    [tenant],
  );
  return rows[0];
}

/** Reads `reads` page by page (each page with the same bootstrap flags) until nothing more. */
async function readPages(
  tenant: string,
  reads: readonly ScopeReadRequest[],
  limit: number,
  snapshots?: Record<string, string>,
) {
  let cursors: Record<string, string> = {};
  const items: ScopeReadItem[] = [];
  for (let pages = 1; ; pages++) {
    const page = await readScopes(
      db,
      tenant,
      reads.map((read) => ({
        ...read,
        ...(cursors[read.scope] ? { after: cursors[read.scope] } : {}),
      })),
      limit,
      snapshots,
    );
    items.push(...page.items);
    cursors = page.cursors;
    if (!page.hasMore) return { items: items.map(short), cursors, pages };
  }
}

const BOOT = 'boot';
const MOVES = 'moves';
const contentsBefore = new Map<string, unknown>();

beforeAll(async () => {
  database = await createTestDatabase();
  pool = database.createPool({ max: 4 });
  db = neonDatabase(pool);
  await migrate(db);

  // One event per append, so positions are the order below. a (ann) has 10 events, snapshot at
  // v7 (f1); b (bob) 3, no snapshot; c (bob) 3, snapshot at v2 of another fingerprint.
  const boot = scopedTaskStore(db, BOOT);
  for (const [id, event] of [
    ['a', created('p1', 'ann')], // 1
    ['b', created('p1', 'bob')], // 2
    ['a', renamed('a2')], // 3
    ['a', renamed('a3')], // 4
    ['c', created('p1', 'bob')], // 5
    ['a', renamed('a4')], // 6
    ['a', renamed('a5')], // 7
    ['b', renamed('b2')], // 8
    ['a', renamed('a6')], // 9
    ['a', renamed('a7')], // 10
    ['c', renamed('c2')], // 11
    ['a', renamed('a8')], // 12
    ['a', renamed('a9')], // 13
    ['c', renamed('c3')], // 14
    ['a', renamed('a10')], // 15
    ['b', renamed('b3')], // 16
  ] as const) {
    await boot.append(id, event);
  }
  await saveSnapshotRow(db, BOOT, snapshotOf('a', 7, 'f1'));
  await saveSnapshotRow(db, BOOT, snapshotOf('c', 2, 'other'));

  // d leaves p1 (for p2) before its snapshot's version; e leaves p1, comes back (its history
  // re-sent at 10) and has its snapshot at v4, which it reached in p2.
  const moves = scopedTaskStore(db, MOVES);
  for (const [id, event] of [
    ['d', created('p1', 'bob')], // 1
    ['d', renamed('d2')], // 2
    ['d', moved('p2')], // 3: left p1, joined p2 with v1..v3
    ['d', renamed('d4')], // 4
    ['d', renamed('d5')], // 5
    ['e', created('p1', 'bob')], // 6
    ['e', renamed('e2')], // 7
    ['e', moved('p2')], // 8: left p1, joined p2 with v1..v3
    ['e', renamed('e4')], // 9
    ['e', moved('p1')], // 10: left p2, joined p1 again with v1..v5
    ['e', renamed('e6')], // 11
    ['e', renamed('e7')], // 12
  ] as const) {
    await moves.append(id, event);
  }
  await saveSnapshotRow(db, MOVES, snapshotOf('d', 5, 'f1'));
  await saveSnapshotRow(db, MOVES, snapshotOf('e', 4, 'f1'));

  for (const tenant of [BOOT, MOVES]) contentsBefore.set(tenant, await contents(tenant));
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

/** The plain read of p1 in `boot`: every event of a, b and c. */
const WHOLE_P1 = [
  `s1.1 event a v1 ${P1}`,
  `s2.2 event b v1 ${P1}`,
  `s3.3 event a v2 ${P1}`,
  `s4.4 event a v3 ${P1}`,
  `s5.5 event c v1 ${P1}`,
  `s6.6 event a v4 ${P1}`,
  `s7.7 event a v5 ${P1}`,
  `s8.8 event b v2 ${P1}`,
  `s9.9 event a v6 ${P1}`,
  `s10.10 event a v7 ${P1}`,
  `s11.11 event c v2 ${P1}`,
  `s12.12 event a v8 ${P1}`,
  `s13.13 event a v9 ${P1}`,
  `s14.14 event c v3 ${P1}`,
  `s15.15 event a v10 ${P1}`,
  `s16.16 event b v3 ${P1}`,
];

describe('snapshot bootstrap of scoped reads (real Postgres)', () => {
  it('from scratch: a as its snapshot at v7 and events 7..10, b (no snapshot) and c (another fingerprint) whole', async () => {
    const page = await readScopes(db, BOOT, [{ scope: P1, bootstrap: true }], 100, F1);
    expect(page.items.map(short)).toEqual([
      `s2.2 event b v1 ${P1}`,
      `s5.5 event c v1 ${P1}`,
      `s8.8 event b v2 ${P1}`,
      `s10.10 snapshot a v7 ${P1}`,
      `s10.10 event a v7 ${P1}`,
      `s11.11 event c v2 ${P1}`,
      `s12.12 event a v8 ${P1}`,
      `s13.13 event a v9 ${P1}`,
      `s14.14 event c v3 ${P1}`,
      `s15.15 event a v10 ${P1}`,
      `s16.16 event b v3 ${P1}`,
    ]);
    expect(page.items[3]).toEqual({
      kind: 'snapshot',
      cursor: 's10.10',
      scopes: [P1],
      aggregateType: 'Task',
      aggregateId: 'a',
      version: 7,
      state: { title: 'a at v7', tags: ['x', 1] },
      fingerprint: 'f1',
      takenAt: TAKEN,
    });
    expect(page).toMatchObject({ hasMore: false, horizon: 16, cursors: { [P1]: 's16.16' } });
  });

  it('the fingerprint picks the snapshots: with c’s, c comes from its v2 and a whole', async () => {
    const page = await readScopes(db, BOOT, [{ scope: P1, bootstrap: true }], 100, {
      Task: 'other',
    });
    expect(page.items.map(short)).toEqual([
      `s1.1 event a v1 ${P1}`,
      `s2.2 event b v1 ${P1}`,
      `s3.3 event a v2 ${P1}`,
      `s4.4 event a v3 ${P1}`,
      `s6.6 event a v4 ${P1}`,
      `s7.7 event a v5 ${P1}`,
      `s8.8 event b v2 ${P1}`,
      `s9.9 event a v6 ${P1}`,
      `s10.10 event a v7 ${P1}`,
      `s11.11 snapshot c v2 ${P1}`,
      `s11.11 event c v2 ${P1}`,
      `s12.12 event a v8 ${P1}`,
      `s13.13 event a v9 ${P1}`,
      `s14.14 event c v3 ${P1}`,
      `s15.15 event a v10 ${P1}`,
      `s16.16 event b v3 ${P1}`,
    ]);
  });

  it('without a bootstrap read, or without snapshots named, the statement and its answer are the plain ones', async () => {
    const sent: { text: string; params: readonly unknown[] | undefined }[] = [];
    const recording: SqlExecutor = {
      query(text, params) {
        if (text.includes('strata_scope_rows')) sent.push({ text, params });
        return db.query(text, params);
      },
    };
    const plain = await readScopes(recording, BOOT, [{ scope: P1 }], 100);
    expect(plain.items.map(short)).toEqual(WHOLE_P1);
    for (const [reads, snapshots] of [
      [[{ scope: P1 }], F1],
      [[{ scope: P1, bootstrap: false }], F1],
      [[{ scope: P1, bootstrap: true }], undefined],
      [[{ scope: P1, bootstrap: true }], {}],
    ] as const) {
      const page = await readScopes(recording, BOOT, reads, 100, snapshots);
      expect(page).toEqual(plain);
    }
    expect(sent).toHaveLength(5);
    for (const statement of sent) expect(statement).toEqual(sent[0]);
    // A bootstrap naming only types that have no snapshot here reads as the plain one too.
    const other = await readScopes(db, BOOT, [{ scope: P1, bootstrap: true }], 100, { Todo: 'f1' });
    expect(other).toEqual(plain);
  });

  it('the tenant scope bootstraps the same way, from strata_events', async () => {
    const page = await readScopes(
      db,
      BOOT,
      [{ scope: TENANT_SCOPE_NAME, bootstrap: true }],
      100,
      F1,
    );
    expect(page.items.map(short)).toEqual(
      [
        's2.2 event b v1',
        's5.5 event c v1',
        's8.8 event b v2',
        's10.10 snapshot a v7',
        's10.10 event a v7',
        's11.11 event c v2',
        's12.12 event a v8',
        's13.13 event a v9',
        's14.14 event c v3',
        's15.15 event a v10',
        's16.16 event b v3',
      ].map((item) => `${item} ${TENANT_SCOPE_NAME}`),
    );
  });

  it('two scopes at one position, one bootstrapping: the snapshot names that one, the event both', async () => {
    const page = await readScopes(
      db,
      BOOT,
      [{ scope: P1, bootstrap: true }, { scope: ANN }],
      100,
      F1,
    );
    // a's events before v7 still come to the plain read (ann), not to the bootstrap one (p1).
    expect(page.items.map(short)).toEqual([
      `s1.1 event a v1 ${ANN}`,
      `s2.2 event b v1 ${P1}`,
      `s3.3 event a v2 ${ANN}`,
      `s4.4 event a v3 ${ANN}`,
      `s5.5 event c v1 ${P1}`,
      `s6.6 event a v4 ${ANN}`,
      `s7.7 event a v5 ${ANN}`,
      `s8.8 event b v2 ${P1}`,
      `s9.9 event a v6 ${ANN}`,
      `s10.10 snapshot a v7 ${P1}`,
      `s10.10 event a v7 ${P1} ${ANN}`,
      `s11.11 event c v2 ${P1}`,
      `s12.12 event a v8 ${P1} ${ANN}`,
      `s13.13 event a v9 ${P1} ${ANN}`,
      `s14.14 event c v3 ${P1}`,
      `s15.15 event a v10 ${P1} ${ANN}`,
      `s16.16 event b v3 ${P1}`,
    ]);
    const both = await readScopes(
      db,
      BOOT,
      [
        { scope: P1, bootstrap: true },
        { scope: ANN, bootstrap: true },
      ],
      100,
      F1,
    );
    expect(both.items.map(short)).toEqual([
      `s2.2 event b v1 ${P1}`,
      `s5.5 event c v1 ${P1}`,
      `s8.8 event b v2 ${P1}`,
      `s10.10 snapshot a v7 ${P1} ${ANN}`,
      `s10.10 event a v7 ${P1} ${ANN}`,
      `s11.11 event c v2 ${P1}`,
      `s12.12 event a v8 ${P1} ${ANN}`,
      `s13.13 event a v9 ${P1} ${ANN}`,
      `s14.14 event c v3 ${P1}`,
      `s15.15 event a v10 ${P1} ${ANN}`,
      `s16.16 event b v3 ${P1}`,
    ]);
  });

  it('a span that ends before the snapshot’s version is its `left` alone; a rejoin span is the snapshot and what follows', async () => {
    const p1 = await readScopes(db, MOVES, [{ scope: P1, bootstrap: true }], 100, F1);
    expect(p1.items.map(short)).toEqual([
      `s3.3 left d ${P1}`,
      `s8.8 left e ${P1}`,
      // e rejoined at 10 with its whole history; its snapshot (v4) is inside that history.
      `s10.9 snapshot e v4 ${P1}`,
      `s10.9 event e v4 ${P1}`,
      `s10.10 event e v5 ${P1}`,
      `s11.11 event e v6 ${P1}`,
      `s12.12 event e v7 ${P1}`,
    ]);
    const p2 = await readScopes(db, MOVES, [{ scope: P2, bootstrap: true }], 100, F1);
    expect(p2.items.map(short)).toEqual([
      `s5.5 snapshot d v5 ${P2}`,
      `s5.5 event d v5 ${P2}`,
      `s9.9 snapshot e v4 ${P2}`,
      `s9.9 event e v4 ${P2}`,
      `s10.10 left e ${P2}`,
    ]);
    expect(p1.cursors).toEqual({ [P1]: 's12.12' });
    expect(p2.cursors).toEqual({ [P2]: 's12.12' });
  });

  it.each([
    [BOOT, [{ scope: P1, bootstrap: true }]],
    [BOOT, [{ scope: P1, bootstrap: true }, { scope: ANN }]],
    [
      BOOT,
      [
        { scope: TENANT_SCOPE_NAME, bootstrap: true },
        { scope: P1, bootstrap: true },
      ],
    ],
    [
      MOVES,
      [
        { scope: P1, bootstrap: true },
        { scope: P2, bootstrap: true },
      ],
    ],
  ])('%s %j: pages of 1, 2 and 3 positions read what one page reads', async (tenant, reads) => {
    const whole = await readPages(tenant, reads, 1000, F1);
    expect(whole.pages).toBe(1);
    expect(whole.items.some((item) => item.includes('snapshot'))).toBe(true);
    for (const limit of [1, 2, 3]) {
      const paged = await readPages(tenant, reads, limit, F1);
      expect(paged.items).toEqual(whole.items);
      expect(paged.cursors).toEqual(whole.cursors);
      expect(paged.pages).toBeGreaterThan(1);
    }
  });

  it('a page cut just before the snapshot’s position: the next page starts with the snapshot', async () => {
    // Positions 2, 5, 8 are the first three left in p1.
    const first = await readScopes(db, BOOT, [{ scope: P1, bootstrap: true }], 3, F1);
    expect(first.items.map(short)).toEqual([
      `s2.2 event b v1 ${P1}`,
      `s5.5 event c v1 ${P1}`,
      `s8.8 event b v2 ${P1}`,
    ]);
    expect(first).toMatchObject({ hasMore: true, cursors: { [P1]: 's8.8' } });
    const next = await readScopes(db, BOOT, [{ scope: P1, after: 's8.8', bootstrap: true }], 1, F1);
    expect(next.items.map(short)).toEqual([
      `s10.10 snapshot a v7 ${P1}`,
      `s10.10 event a v7 ${P1}`,
    ]);
    expect(next).toMatchObject({ hasMore: true, cursors: { [P1]: 's10.10' } });
  });

  it('reads leave the database as it was', async () => {
    for (const tenant of [BOOT, MOVES]) {
      expect(await contents(tenant)).toEqual(contentsBefore.get(tenant));
    }
  });
});
