// Scoped reads on real Postgres, with appends racing them. A tenant's appends commit in
// tenant-position order (the counter row stays locked until COMMIT) and the scope rows commit
// with their events, so a scoped reader whose cursor says "complete through H" can never miss
// a row that commits later: a later commit always has higher positions and higher `eff`s.
import { ANY, InvalidCursorError } from '@strata/core';
import { createTestDatabase, type Pool, type TestDatabase } from '@strata/tooling/postgres/neon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  created,
  describeItem,
  moved,
  projectKey,
  readAllPages,
  reassigned,
  renamed,
  scopedTaskStore,
  userKey,
} from '../../test/fixtures/scopes/scoped-tasks.ts';
import { migrate } from '../migrations/migrations.ts';
import { neonDatabase } from '../postgres/neon-database.ts';
import { readScopes } from './read-scopes.ts';

let database: TestDatabase;
let pool: Pool;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = database.createPool({ max: 12 });
  await migrate(neonDatabase(pool));
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const P1 = projectKey('p1');
const P2 = projectKey('p2');
const ANN = userKey('ann');

/** A gate a test opens when it is ready. */
function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** Waits until some backend waits for a lock while running a statement containing `text`. */
async function untilWaitingOnLock(text: string): Promise<void> {
  for (;;) {
    const { rows } = await pool.query(
      `SELECT 1 FROM pg_stat_activity
       WHERE wait_event_type = 'Lock' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()`,
      [text],
    );
    if (rows.length > 0) return;
    await sleep(10);
  }
}

describe('scoped reads under concurrent appends (real Postgres)', () => {
  it('a late committer holds back its tenant: a cursor read meanwhile skips none of its rows', async () => {
    const db = neonDatabase(pool);
    const { store, append } = scopedTaskStore(db, 'late');
    await append('t0', created('p1', 'ann')); // 1
    const held = gate();
    const inserted = gate();
    // Positions 2..3 and their scope rows written, not committed.
    const first = store.append(
      { aggregateType: 'Task', aggregateId: 't1' },
      [created('p1', 'ann'), renamed('two')],
      {
        expectedVersion: ANY,
        beforeCommit: async () => {
          inserted.open();
          await held.opened;
        },
      },
    );
    await inserted.opened;
    // Would be position 4: it waits for the counter, so it cannot commit before 2..3.
    const second = append('t0', moved('p2'));
    await untilWaitingOnLock('strata_tenant_positions');
    const meanwhile = await readScopes(db, 'late', [{ scope: P1 }, { scope: P2 }], 10);
    expect(meanwhile.items.map(describeItem)).toEqual([`s1.1 event t0 v1 ${P1}`]);
    expect(meanwhile).toMatchObject({
      horizon: 1,
      hasMore: false,
      cursors: { [P1]: 's1.1', [P2]: 's1.1' },
    });
    held.open();
    await Promise.all([first, second]);
    const next = await readScopes(
      db,
      'late',
      [
        { scope: P1, after: meanwhile.cursors[P1] ?? '' },
        { scope: P2, after: meanwhile.cursors[P2] ?? '' },
      ],
      10,
    );
    expect(next.items.map(describeItem)).toEqual([
      `s2.2 event t1 v1 ${P1}`,
      `s3.3 event t1 v2 ${P1}`,
      `s4.1 event t0 v1 ${P2}`,
      `s4.4 event t0 v2 ${P2}`,
      `s4.4 left t0 ${P1}`,
    ]);
    expect(next.cursors).toEqual({ [P1]: 's4.4', [P2]: 's4.4' });
  });

  it('a rolled-back append leaves no scope rows, and the next append takes its positions', async () => {
    const db = neonDatabase(pool);
    const { store, append } = scopedTaskStore(db, 'rolled');
    const held = gate();
    const inserted = gate();
    const doomed = store.append(
      { aggregateType: 'Task', aggregateId: 't1' },
      [created('p1', 'ann')],
      {
        expectedVersion: ANY,
        beforeCommit: async () => {
          inserted.open();
          await held.opened;
          throw new Error('rolled back');
        },
      },
    );
    await inserted.opened;
    const waiting = append('t2', created('p2', 'ann'));
    await untilWaitingOnLock('strata_tenant_positions');
    held.open();
    await expect(doomed).rejects.toThrow('rolled back');
    await waiting;
    const { rows } = await pool.query(
      `SELECT scope, eff::int, aggregate_id FROM strata_scope_rows WHERE tenant = 'rolled' ORDER BY 1`,
    );
    expect(rows).toEqual([
      { scope: ANN, eff: 1, aggregate_id: 't2' },
      { scope: P2, eff: 1, aggregate_id: 't2' },
    ]);
    const members = await pool.query(
      `SELECT aggregate_id FROM strata_scope_memberships WHERE tenant = 'rolled'`,
    );
    expect(members.rows).toEqual([{ aggregate_id: 't2' }]);
  });

  it('8 writers moving tasks between scopes, some holding their transactions open, and a paging reader: every item exactly once, in order', async () => {
    const db = neonDatabase(pool);
    const tenant = 'race';
    const neighbour = scopedTaskStore(db, 'race-neighbour');
    const { store } = scopedTaskStore(db, tenant);
    const held = (ms: number) => ({ beforeCommit: () => sleep(ms) });
    const WRITERS = 8;
    const APPENDS = 10;
    let writing = true;
    const writers = Array.from({ length: WRITERS }, async (_, writer) => {
      for (let i = 0; i < APPENDS; i++) {
        const task = `t${(writer * 3 + i) % 6}`;
        // Every kind of scope change: a new task, a move, a reassignment, a plain event.
        const events =
          [
            [created(`p${i % 2 ? 1 : 2}`, 'ann')],
            [moved(`p${(writer + i) % 3}`)],
            [reassigned(i % 2 ? 'ann' : 'bob'), renamed(`n${i}`)],
          ][i % 3] ?? [];
        const holdMs = i % 3 === 0 ? 30 + ((writer * 13) % 40) : 0;
        if (writer % 2 === 1) {
          await neighbour.store.append({ aggregateType: 'Task', aggregateId: task }, events, {
            expectedVersion: ANY,
          });
          continue;
        }
        await store.append({ aggregateType: 'Task', aggregateId: task }, events, {
          expectedVersion: ANY,
          ...(holdMs > 0 ? held(holdMs) : {}),
        });
      }
    });
    const scopes = [P1, P2, ANN];
    const seen: string[] = [];
    let pagesWhileWriting = 0;
    const reader = (async () => {
      let cursors: Record<string, string> = {};
      for (;;) {
        const stillWriting = writing;
        const page = await readScopes(
          db,
          tenant,
          scopes.map((scope) => ({ scope, ...(cursors[scope] ? { after: cursors[scope] } : {}) })),
          3,
        );
        seen.push(...page.items.map(describeItem));
        if (stillWriting && page.items.length > 0) pagesWhileWriting++;
        cursors = page.cursors;
        if (!stillWriting && !page.hasMore) return;
        if (page.items.length === 0) await sleep(5);
      }
    })();
    await Promise.all(writers);
    writing = false;
    await reader;
    // What a reader that started after the race reads in one page per position: the same.
    const after = await readAllPages(db, tenant, scopes, 1000);
    expect(after.pages).toBe(1);
    expect(seen).toEqual(after.items.map(describeItem));
    expect(new Set(seen).size).toBe(seen.length);
    expect(pagesWhileWriting).toBeGreaterThan(1); // the reader really raced the writers
    expect(seen.length).toBeGreaterThan(WRITERS * APPENDS * 0.5);
    // No neighbour's row reached this tenant's reader.
    const ids = after.items.flatMap((item) => (item.kind === 'event' ? [item.event.tenant] : []));
    expect(new Set(ids)).toEqual(new Set([tenant]));
  });

  it('a cursor past the tenant’s end (a replaced database) is INVALID_CURSOR', async () => {
    const db = neonDatabase(pool);
    await scopedTaskStore(db, 'replaced').append('t1', created('p1', 'ann'));
    await expect(readScopes(db, 'replaced', [{ scope: P1, after: 's5.5' }], 10)).rejects.toThrow(
      InvalidCursorError,
    );
  });
});
