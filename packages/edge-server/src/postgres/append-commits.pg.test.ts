/**
 * `appendCommits` on real Postgres through the Neon driver: a push's commits in one transaction
 * of a constant number of statements, with the rules of one commit after the other, and what the
 * database holds afterwards when commits conflict, repeat, race or are refused by a hook.
 */
import { ForbiddenError, type NewEvent, NO_STREAM, newKsuid, type StreamRef } from '@strata/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { neonSuiteDatabase, type SuiteDatabase } from '../../test/suites/suite-databases.ts';
import { migrate } from '../migrations/migrations.ts';
import type { CommitAppend } from './append-commits.ts';
import type { AppendHook } from './append-hook.ts';
import { createPostgresEventStore } from './postgres-event-store.ts';
import type { SqlDatabase, SqlExecutor } from './sql-database.ts';

let suite: SuiteDatabase;
let database: SqlDatabase;

beforeAll(async () => {
  suite = await neonSuiteDatabase();
  database = suite.database;
  await migrate(database);
}, 60_000);

afterAll(async () => {
  await suite?.close();
});

const todo = (id: string): StreamRef => ({ aggregateType: 'Todo', aggregateId: id });
const event = (text: string, id = newKsuid()): NewEvent => ({
  id,
  type: 'TodoAdded',
  schemaVersion: 1,
  data: { title: text },
  metadata: {},
  occurredAt: '2026-01-01T00:00:00.000Z',
});
const commit = (
  stream: StreamRef,
  expectedVersion: CommitAppend['expectedVersion'],
  ...events: NewEvent[]
): CommitAppend => ({ stream, expectedVersion, events });

/** The database with every statement counted (those inside transactions too). */
function counting(db: SqlDatabase) {
  const counter = { statements: 0, transactions: 0 };
  const counted = (executor: SqlExecutor): SqlExecutor => ({
    query: (text, params) => {
      counter.statements++;
      return executor.query(text, params);
    },
  });
  const wrapped: SqlDatabase = {
    ...counted(db),
    transaction: (work) => {
      counter.transactions++;
      return db.transaction((tx) => work(counted(tx)));
    },
  };
  return { counter, wrapped };
}

async function stored(tenant: string) {
  const { rows } = await database.query<{
    aggregate_id: string;
    version: number;
    id: string;
    tenant_position: string;
  }>(
    `SELECT aggregate_id, version, id, tenant_position FROM strata_events
     WHERE tenant = $1 ORDER BY tenant_position`,
    [tenant],
  );
  return rows.map((row) => ({ ...row, tenant_position: Number(row.tenant_position) }));
}

describe('appendCommits (Postgres through the Neon driver)', () => {
  it('stores 1 and 50 commits in the same number of statements and one transaction', async () => {
    for (const count of [1, 50]) {
      const tenant = `batch-${count}`;
      const { counter, wrapped } = counting(database);
      const store = createPostgresEventStore(wrapped, { tenant });
      const commits = Array.from({ length: count }, (_, i) =>
        commit(todo(`t${i}`), NO_STREAM, event(`a${i}`), event(`b${i}`)),
      );
      const outcomes = await store.appendCommits(commits);
      expect(outcomes.every((outcome) => outcome.kind === 'appended')).toBe(true);
      // The versions, then the INSERT (with the counter and the notification).
      expect(counter).toEqual({ statements: 2, transactions: 1 });
      const rows = await stored(tenant);
      expect(rows).toHaveLength(count * 2);
      // Dense tenant positions, in commit order.
      expect(rows.map((row) => row.tenant_position)).toEqual(rows.map((_, i) => i + 1));
      expect(rows.map((row) => row.id)).toEqual(commits.flatMap((c) => c.events.map((e) => e.id)));
    }
  });

  it('refuses a conflicting commit without taking its neighbours down', async () => {
    const tenant = 'conflict';
    const store = createPostgresEventStore(database, { tenant });
    await store.appendCommits([commit(todo('busy'), NO_STREAM, event('first'))]);
    const { counter, wrapped } = counting(database);
    const outcomes = await createPostgresEventStore(wrapped, { tenant }).appendCommits([
      commit(todo('left'), NO_STREAM, event('left')),
      commit(todo('busy'), NO_STREAM, event('stale')), // busy is at 1
      commit(todo('busy'), 1, event('on top of stale')), // decided on the stale one
      commit(todo('right'), NO_STREAM, event('right')),
    ]);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual([
      'appended',
      'refused',
      'blocked',
      'appended',
    ]);
    expect(outcomes[1]).toMatchObject({
      error: { code: 'VERSION_CONFLICT', actualVersion: 1 },
    });
    // A refusal looks the ids up once (a retry would be told from a conflict), still constant.
    expect(counter).toEqual({ statements: 3, transactions: 1 });
    const rows = await stored(tenant);
    expect(rows.map((row) => [row.aggregate_id, row.version])).toEqual([
      ['busy', 1],
      ['left', 1],
      ['right', 1],
    ]);
    expect(rows.map((row) => row.tenant_position)).toEqual([1, 2, 3]);
  });

  it('answers a re-pushed batch with what it stored, and stores nothing twice', async () => {
    const tenant = 'repush';
    const store = createPostgresEventStore(database, { tenant });
    const first = [
      commit(todo('a'), NO_STREAM, event('a1')),
      commit(todo('a'), 1, event('a2'), event('a3')),
    ];
    const stored1 = await store.appendCommits(first);
    const again = await store.appendCommits([...first, commit(todo('a'), 3, event('a4'))]);
    expect(again.map((outcome) => outcome.kind === 'appended' && outcome.alreadyStored)).toEqual([
      true,
      true,
      false,
    ]);
    expect(again[1]).toEqual(stored1[1] && { ...stored1[1], alreadyStored: true });
    const rows = await stored(tenant);
    expect(rows.map((row) => row.version)).toEqual([1, 2, 3, 4]);
  });

  it('refuses an id stored on another aggregate; the rest of the batch is stored', async () => {
    const tenant = 'reused-id';
    const store = createPostgresEventStore(database, { tenant });
    const taken = event('taken');
    await store.appendCommits([commit(todo('owner'), NO_STREAM, taken)]);
    const outcomes = await store.appendCommits([
      commit(todo('fresh'), NO_STREAM, event('fresh')),
      commit(todo('thief'), NO_STREAM, { ...taken }),
    ]);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['appended', 'refused']);
    expect(outcomes[1]).toMatchObject({ error: { code: 'DUPLICATE_EVENT_ID' } });
    expect((await stored(tenant)).map((row) => row.aggregate_id)).toEqual(['owner', 'fresh']);
  });

  it('lets concurrent batches on one aggregate race: one wins each version, nothing is lost', async () => {
    const tenant = 'race';
    const store = createPostgresEventStore(database, { tenant });
    const writers = Array.from({ length: 6 }, (_, w) =>
      store.appendCommits([
        commit(todo(`own-${w}`), NO_STREAM, event(`own ${w}`)),
        commit(todo('shared'), NO_STREAM, event(`shared ${w}`)),
      ]),
    );
    const outcomes = await Promise.all(writers);
    const winners = outcomes.filter((o) => o[1]?.kind === 'appended');
    expect(winners).toHaveLength(1);
    for (const o of outcomes) {
      expect(o[0]?.kind).toBe('appended');
      if (o[1]?.kind !== 'appended') {
        expect(o[1]).toMatchObject({ kind: 'refused', error: { code: 'VERSION_CONFLICT' } });
      }
    }
    const rows = await stored(tenant);
    expect(rows).toHaveLength(7);
    expect(rows.filter((row) => row.aggregate_id === 'shared')).toHaveLength(1);
    expect(rows.map((row) => row.tenant_position)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('runs the hooks once with every event; a hook refusal lands on its commit only', async () => {
    const tenant = 'hooks';
    const calls: number[] = [];
    const refuseBad: AppendHook = async (events, { transaction }) => {
      calls.push(events.length);
      await transaction.query('SELECT 1');
      const bad = events.find((e) => (e.data as { title: string }).title === 'bad');
      if (bad !== undefined) throw new ForbiddenError(`no ${bad.aggregateId}`);
    };
    const store = createPostgresEventStore(database, { tenant, appendHooks: [refuseBad] });
    const good = await store.appendCommits([
      commit(todo('g1'), NO_STREAM, event('g1')),
      commit(todo('g2'), NO_STREAM, event('g2')),
    ]);
    expect(good.map((outcome) => outcome.kind)).toEqual(['appended', 'appended']);
    expect(calls).toEqual([2]);

    calls.length = 0;
    const mixed = await store.appendCommits([
      commit(todo('m1'), NO_STREAM, event('m1')),
      commit(todo('m2'), NO_STREAM, event('bad')),
      commit(todo('m2'), 1, event('after bad')),
      commit(todo('m3'), NO_STREAM, event('m3')),
    ]);
    expect(mixed.map((outcome) => outcome.kind)).toEqual([
      'appended',
      'refused',
      'blocked',
      'appended',
    ]);
    expect(mixed[1]).toMatchObject({ error: { code: 'FORBIDDEN', message: 'no m2' } });
    // The batch once (refused, rolled back), then commit by commit.
    expect(calls).toEqual([4, 1, 1, 1]);
    expect((await stored(tenant)).map((row) => row.aggregate_id)).toEqual(['g1', 'g2', 'm1', 'm3']);
  });

  it('lets a hook error that is not a refusal fail the whole call, storing nothing', async () => {
    const tenant = 'hook-crash';
    const store = createPostgresEventStore(database, {
      tenant,
      appendHooks: [
        () => {
          throw new TypeError('hook bug');
        },
      ],
    });
    await expect(
      store.appendCommits([
        commit(todo('x'), NO_STREAM, event('x')),
        commit(todo('y'), NO_STREAM, event('y')),
      ]),
    ).rejects.toThrow('hook bug');
    expect(await stored(tenant)).toEqual([]);
    const { rows } = await database.query(
      'SELECT last FROM strata_tenant_positions WHERE tenant = $1',
      [tenant],
    );
    expect(rows).toEqual([]); // the counter's bump was rolled back too
  });
});
