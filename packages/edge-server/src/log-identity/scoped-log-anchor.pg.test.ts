/**
 * The pull anchor on scoped reads (issue 17): `POST /v2/pull` checks `strata-anchor` as
 * `GET /v1/pull` does. A restore that keeps the log id is simulated with two databases on real
 * Postgres through the Neon driver: `live`, as a scoped device last read it, and `restored`, as
 * a backup taken before its last event leaves it once another event has taken that position
 * (the same events before it, the same log id).
 */
import type { ScopedPullResponse, StoredEvent } from '@strata/core';
import { createTestDatabase, type Pool, type TestDatabase } from '@strata/tooling/postgres/neon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { created, projectKey, scopedTaskStore } from '../../test/fixtures/scopes/scoped-tasks.ts';
import { taskScopesApp } from '../../test/fixtures/scopes/task-scopes-app.ts';
import type { SyncApp } from '../app/create-sync-app.ts';
import { migrate } from '../migrations/migrations.ts';
import { neonDatabase } from '../postgres/neon-database.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import { readLogId } from './log-identity.ts';

const TENANT = 'acme';
const P1 = projectKey('p1');
const everyone = { project: () => true, assignedTo: () => true };

interface Log {
  database: TestDatabase;
  pool: Pool;
  db: SqlDatabase;
  app: SyncApp;
}
let live: Log;
let restored: Log;
/** The events the device read from `live`, in order; the last is not in `restored`. */
let read: StoredEvent[];

async function openLog(): Promise<Omit<Log, 'app'>> {
  const database = await createTestDatabase();
  const pool = database.createPool({ max: 4 });
  const db = neonDatabase(pool);
  await migrate(db);
  return { database, pool, db };
}

async function pull(log: Log, anchor?: string, after?: string) {
  const response = await log.app.request('/v2/pull', {
    method: 'POST',
    headers: {
      'x-user': 'ann',
      'content-type': 'application/json',
      ...(anchor === undefined ? {} : { 'strata-anchor': anchor }),
    },
    body: JSON.stringify({
      scopes: [{ scope: P1, ...(after === undefined ? {} : { after }) }],
      limit: 100,
    }),
  });
  const body = (await response.json()) as ScopedPullResponse & Record<string, unknown>;
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    logId: response.headers.get('strata-log-id'),
    body,
    ids: (body.items ?? []).flatMap((item) => (item.kind === 'event' ? [item.event.id] : [])),
  };
}

/** Every row a pull could touch. */
const contents = async (db: SqlDatabase) =>
  (
    await db.query(
      `SELECT
         (SELECT json_agg(e.id ORDER BY tenant_position) FROM strata_events e) AS events,
         (SELECT count(*)::int FROM strata_scope_rows) AS rows,
         (SELECT json_agg(p ORDER BY tenant) FROM strata_tenant_positions p) AS positions,
         (SELECT log_id FROM strata_log_identity) AS log_id`,
    )
  ).rows[0];

beforeAll(async () => {
  const liveDb = await openLog();
  const restoredDb = await openLog();
  // The backup's log id comes back with it.
  const logId = await readLogId(liveDb.db);
  await restoredDb.db.query('UPDATE strata_log_identity SET log_id = $1', [logId]);
  const [a, b, lost, other] = [
    created('p1', 'ann'),
    created('p1', 'bob'),
    created('p1', 'cy', 'lost with the restore'),
    created('p1', 'dee', 'written after the restore'),
  ];
  const toLive = scopedTaskStore(liveDb.db, TENANT).append;
  const toRestored = scopedTaskStore(restoredDb.db, TENANT).append;
  read = [];
  for (const [id, event] of [
    ['a', a],
    ['b', b],
    ['c', lost],
  ] as const) {
    read.push(...(await toLive(id, event)).events);
  }
  await toRestored('a', a);
  await toRestored('b', b);
  await toRestored('d', other); // tenant position 3, as `lost` in the live log
  live = { ...liveDb, app: taskScopesApp(liveDb.db, TENANT, everyone) };
  restored = { ...restoredDb, app: taskScopesApp(restoredDb.db, TENANT, everyone) };
}, 60_000);

afterAll(async () => {
  for (const log of [live, restored]) {
    await log?.app.close();
    await log?.pool.end();
    await log?.database.drop();
  }
});

describe('POST /v2/pull with strata-anchor', () => {
  it('a scoped device that read the live log finds its last event in it: served as usual', async () => {
    const all = await pull(live);
    expect(all.ids).toEqual(read.map((event) => event.id));
    const [, second, third] = all.body.items;
    if (second?.kind !== 'event' || third?.kind !== 'event') throw new Error('expected events');
    // Items carry tenant positions, and the anchor names one.
    expect(third.event.position).toBe(3);
    const anchored = await pull(live, `${second.event.position}:${second.event.id}`, second.cursor);
    expect(anchored.status).toBe(200);
    expect(anchored.ids).toEqual([third.event.id]);
    const last = await pull(live, `${third.event.position}:${third.event.id}`, third.cursor);
    expect(last.status).toBe(200);
    expect(last.body.items).toEqual([]);
  });

  it('the restored log (same log id) without the anchored event: 409 LOG_DIVERGED problem+json, nothing read or changed', async () => {
    const before = await pull(live);
    const third = before.body.items[2];
    if (third?.kind !== 'event') throw new Error('expected an event');
    const [liveLogId, restoredLogId] = [before.logId, (await pull(restored)).logId];
    expect(restoredLogId).toBe(liveLogId); // the log id alone cannot tell
    // Without the anchor the device's cursor reads on in the restored log, its lost event unseen.
    expect((await pull(restored, undefined, third.cursor)).body.items).toEqual([]);

    const kept = await contents(restored.db);
    const answer = await pull(restored, `${third.event.position}:${third.event.id}`, third.cursor);
    expect(answer.status).toBe(409);
    expect(answer.type).toBe('application/problem+json');
    expect(answer.body.code).toBe('LOG_DIVERGED');
    expect(answer.body.items).toBeUndefined();
    expect(answer.logId).toBe(liveLogId);
    expect(await contents(restored.db)).toEqual(kept);
    // An anchor before what the restore lost is in both logs: served, with the new event.
    const second = before.body.items[1];
    if (second?.kind !== 'event') throw new Error('expected an event');
    const older = await pull(
      restored,
      `${second.event.position}:${second.event.id}`,
      second.cursor,
    );
    expect(older.status).toBe(200);
    expect(older.ids).toHaveLength(1);
    expect(older.ids[0]).not.toBe(third.event.id);
  });

  it('a malformed anchor is ignored, as from a client that sends none', async () => {
    for (const anchor of [
      '',
      'x',
      '0:abc',
      '-1:2TnV6vLtuN4Kc1yQdVvP8Wm8Ksm',
      `1:${'a'.repeat(500)}`,
    ]) {
      const answer = await pull(restored, anchor);
      expect(answer.status, anchor).toBe(200);
      expect(answer.ids, anchor).toHaveLength(3);
    }
  });
});
