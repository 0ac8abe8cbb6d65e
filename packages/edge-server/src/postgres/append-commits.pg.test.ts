/**
 * `appendCommits` on real Postgres through the Neon driver: a push's commits in one transaction
 * of a constant number of statements, with the rules of one commit after the other, and what the
 * database holds afterwards when commits conflict, repeat, race or are refused by a hook.
 */
import { ForbiddenError, type NewEvent, NO_STREAM, newKsuid, type StreamRef } from '@strata/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { neonSuiteDatabase, type SuiteDatabase } from '../../test/suites/suite-databases.ts';
import { EVENTS_CHANNEL, migrate } from '../migrations/migrations.ts';
import type { CommitAppend } from './append-commits.ts';
import type { AppendHook } from './append-hook.ts';
import { neonDatabase } from './neon-database.ts';
import { createPostgresEventStore } from './postgres-event-store.ts';
import type { SqlDatabase, SqlExecutor } from './sql-database.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

/** The database with every statement but notifications counted (those inside transactions too). */
function counting(db: SqlDatabase) {
  const counter = { statements: 0, transactions: 0 };
  const counted = (executor: SqlExecutor): SqlExecutor => ({
    query: (text, params) => {
      // The notification goes out on its own, after the answer (notify-appended.ts).
      if (!text.includes('pg_notify')) counter.statements++;
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
  it('stores 1 and 50 commits in one statement, without a transaction', async () => {
    for (const count of [1, 50]) {
      const tenant = `batch-${count}`;
      const { counter, wrapped } = counting(database);
      const store = createPostgresEventStore(wrapped, { tenant });
      const commits = Array.from({ length: count }, (_, i) =>
        commit(todo(`t${i}`), NO_STREAM, event(`a${i}`), event(`b${i}`)),
      );
      const outcomes = await store.appendCommits(commits);
      expect(outcomes.every((outcome) => outcome.kind === 'appended')).toBe(true);
      // The version check, the counter and the INSERT in one statement.
      expect(counter).toEqual({ statements: 1, transactions: 0 });
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
    // The one statement stores nothing (a version does not fit); then one transaction: the
    // versions, the ids (a retry would be told from a conflict), the INSERT. Still constant.
    expect(counter).toEqual({ statements: 4, transactions: 1 });
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
    // A store on a database object of its own per writer: six server instances, which share no
    // queue (tenant-append-queue.ts) and meet only in Postgres.
    const instance = (): SqlDatabase => ({
      query: (text, params) => database.query(text, params),
      transaction: (work) => database.transaction(work),
    });
    const writers = Array.from({ length: 6 }, (_, w) =>
      createPostgresEventStore(instance(), { tenant }).appendCommits([
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

  it('runs the hooks once per run of commits with at most one of each aggregate, in order; a hook refusal lands on its commit only', async () => {
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
    const { counter, wrapped } = counting(database);
    await createPostgresEventStore(wrapped, { tenant, appendHooks: [refuseBad] }).appendCommits([
      commit(todo('g3'), NO_STREAM, event('g3')),
      commit(todo('g4'), NO_STREAM, event('g4')),
    ]);
    // With hooks, a transaction: the versions, the INSERT, the hook's statement.
    expect(counter).toEqual({ statements: 3, transactions: 1 });
    calls.length = 0;
    // Two commits of one aggregate: the hooks see each on its own, as when the commits were
    // appended one after the other, and the events in their order.
    const seen: string[][] = [];
    const layered = createPostgresEventStore(database, {
      tenant,
      appendHooks: [(events) => void seen.push(events.map((e) => e.aggregateId))],
    });
    await layered.appendCommits([
      commit(todo('l1'), NO_STREAM, event('l1 first')),
      commit(todo('l1'), 1, event('l1 second'), event('l1 third')),
      commit(todo('l2'), NO_STREAM, event('l2 first')),
    ]);
    expect(seen).toEqual([['l1'], ['l1', 'l1', 'l2']]);

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
    // The batch's first call (m1 and the bad m2: refused, rolled back), then commit by commit.
    expect(calls).toEqual([2, 1, 1, 1]);
    expect((await stored(tenant)).map((row) => row.aggregate_id)).toEqual([
      'g1',
      'g2',
      'g3',
      'g4',
      'l1',
      'l1',
      'l1',
      'l2',
      'm1',
      'm3',
    ]);
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

  it('notifies the instances after COMMIT, without turning durable commits off for later ones', async () => {
    const { createTestDatabase } = await import('@strata/tooling/postgres/neon');
    const own = await createTestDatabase();
    const migrating = own.createPool({ max: 4 });
    await migrate(neonDatabase(migrating));
    await migrating.end();
    const pool = own.createPool({ max: 1 });
    const listener = own.createPool({ max: 1 });
    try {
      const db = neonDatabase(pool);
      // The tier's cluster may run without durable commits; this session asks for them.
      await db.query('SET synchronous_commit = on');
      const client = await listener.connect();
      const heard: string[] = [];
      client.on('notification', (message) => heard.push(String(message.payload)));
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
      const store = createPostgresEventStore(db, { tenant: 'told' });
      await store.appendCommits([commit(todo('n1'), NO_STREAM, event('n1'))]);
      await store.append(todo('n1'), [event('n2')], { expectedVersion: 1 });
      // A re-push stores nothing and tells nobody.
      const again = await store.appendCommits([commit(todo('n1'), NO_STREAM, event('n1'))]);
      expect(again[0]?.kind).toBe('refused');
      for (let wait = 0; heard.length < 2 && wait < 100; wait++) await sleep(20);
      expect(heard).toEqual(['told', 'told']);
      // The one pooled connection made the notification: its session is durable still.
      const { rows } = await db.query<{ value: string }>(
        `SELECT current_setting('synchronous_commit') AS value`,
      );
      client.release();
      expect(rows[0]?.value).toBe('on');
    } finally {
      await listener.end();
      await pool.end();
      await own.drop();
    }
  });

  it('lets concurrent pushes of one tenant share transactions, each answered on its own', async () => {
    const tenant = 'group-commit';
    const { counter, wrapped } = counting(database);
    const store = createPostgresEventStore(wrapped, { tenant });
    const original = [commit(todo('retried'), NO_STREAM, event('retried'))];
    const pushes = [
      ...Array.from({ length: 7 }, (_, p) => [commit(todo(`p${p}`), NO_STREAM, event(`p${p}`))]),
      original,
      original.map((c) => ({ ...c })), // a retry racing its original: never refused
      [commit(todo('p0'), NO_STREAM, event('late p0'))], // p0 exists by then: a conflict
    ];
    const outcomes = await Promise.all(pushes.map((commits) => store.appendCommits(commits)));
    expect(outcomes.slice(0, 7).map(([o]) => o?.kind)).toEqual(Array(7).fill('appended'));
    expect(outcomes[7]?.[0]).toMatchObject({ kind: 'appended', alreadyStored: false });
    expect(outcomes[8]?.[0]).toMatchObject({ kind: 'appended', alreadyStored: true });
    expect(outcomes[9]?.[0]).toMatchObject({
      kind: 'refused',
      error: { code: 'VERSION_CONFLICT' },
    });
    // The first push alone (one statement), the next eight together (the statement finds p0
    // taken: one transaction), the retry after its original (one more).
    expect(counter.transactions).toBe(2);
    expect(counter.statements).toBe(1 + (1 + 3) + (1 + 2));
    const rows = await stored(tenant);
    expect(rows).toHaveLength(8);
    expect(rows.map((row) => row.tenant_position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("runs each push's own hooks in a shared transaction; one push's refusal spares the others", async () => {
    const tenant = 'group-hooks';
    const seen: Record<string, string[]> = { strict: [], lenient: [] };
    const hook =
      (name: 'strict' | 'lenient'): AppendHook =>
      (events) => {
        seen[name]?.push(...events.map((e) => e.aggregateId));
        if (name === 'strict' && events.some((e) => e.aggregateId === 'forbidden')) {
          throw new ForbiddenError('not this one');
        }
      };
    const strict = createPostgresEventStore(database, { tenant, appendHooks: [hook('strict')] });
    const lenient = createPostgresEventStore(database, { tenant, appendHooks: [hook('lenient')] });
    const [first, refused, spared] = await Promise.all([
      lenient.appendCommits([commit(todo('opener'), NO_STREAM, event('opener'))]),
      strict.appendCommits([commit(todo('forbidden'), NO_STREAM, event('x'))]),
      lenient.appendCommits([commit(todo('spared'), NO_STREAM, event('y'))]),
    ]);
    expect(first?.[0]?.kind).toBe('appended');
    expect(refused?.[0]).toMatchObject({ kind: 'refused', error: { code: 'FORBIDDEN' } });
    expect(spared?.[0]?.kind).toBe('appended');
    expect(seen.lenient).not.toContain('forbidden'); // never shown another push's events
    expect((await stored(tenant)).map((row) => row.aggregate_id)).toEqual(['opener', 'spared']);
  });
});
