/**
 * Authority `decide` for a push's run of commands (decide-batch.ts) on real Postgres through the
 * Neon driver, over HTTP: a constant number of statements whatever the number of commands, the
 * rules of one command after the other, and what the database holds afterwards when commands
 * chain, are refused, repeat, race another writer, are refused by a hook, or lose the database.
 */
import {
  ForbiddenError,
  newKsuid,
  type StrataError,
  type StreamRef,
  UnavailableError,
} from '@strata/core';
import { CART_LIMIT, Cart, Todo } from '@strata/example-todo';
import { bearerToken } from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Note } from '../../test/fixtures/authority-aggregates.ts';
import { neonSuiteDatabase, type SuiteDatabase } from '../../test/suites/suite-databases.ts';
import { jwtAuthentication } from '../app/auth.ts';
import { createSyncApp, type SyncApp } from '../app/create-sync-app.ts';
import { migrate } from '../migrations/migrations.ts';
import type { SqlDatabase, SqlExecutor } from '../postgres/sql-database.ts';

type Answer = Record<string, any>;

const SECRET = 'decide-batch-secret';

let suite: SuiteDatabase;
let database: SqlDatabase;
let app: SyncApp;

/** What the wrapped database does to a statement before it runs (counting, faults, races). */
let beforeStatement: (text: string, params: readonly unknown[] | undefined) => Promise<void> =
  async () => undefined;
/** What it does after a statement ran, before the caller sees the answer. */
let afterStatement: (text: string, params: readonly unknown[] | undefined) => Promise<void> =
  async () => undefined;
const counter = { statements: 0, transactions: 0 };

function instrumented(db: SqlDatabase): SqlDatabase {
  const wrap = (executor: SqlExecutor): SqlExecutor => ({
    query: async <TRow = Record<string, unknown>>(text: string, params?: readonly unknown[]) => {
      // The notification goes out on its own, after the answer (notify-appended.ts).
      if (!text.includes('pg_notify')) counter.statements++;
      await beforeStatement(text, params);
      const result = await executor.query<TRow>(text, params);
      await afterStatement(text, params);
      return result;
    },
  });
  return {
    ...wrap(db),
    transaction: (work) => {
      counter.transactions++;
      return db.transaction((tx) => work(wrap(tx)));
    },
  };
}

beforeAll(async () => {
  suite = await neonSuiteDatabase();
  database = suite.database;
  await migrate(database);
  app = createSyncApp({
    database: instrumented(database),
    authenticate: jwtAuthentication({ secret: SECRET }),
    aggregates: [Todo, Cart, Note],
    authority: { Note: 'verify' },
    appendHooks: [
      // An app rule inside the append: a cart named `vetoed-*` is never stored.
      (events) => {
        const vetoed = events.find((event) => event.aggregateId.startsWith('vetoed-'));
        if (vetoed !== undefined) throw new ForbiddenError(`${vetoed.aggregateId} is vetoed`);
      },
    ],
    onError: () => undefined,
  });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await suite?.close();
});

let tenants = 0;
async function client() {
  const tenant = `decide-batch-${tenants++}`;
  const token = await bearerToken(SECRET, tenant, 'ann');
  return {
    tenant,
    async push(commits: readonly unknown[], expected = 200) {
      const response = await app.request('/v2/push', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ protocol: 2, clientId: 'device-1', commits }),
      });
      const body = (await response.json()) as Answer;
      expect(response.status, JSON.stringify(body)).toBe(expected);
      return body.results as Answer[];
    },
  };
}

const commit = (aggregateType: string, aggregateId: string, name: string, input: unknown) => ({
  commitId: newKsuid(),
  command: { aggregateType, aggregateId, name, input, issuedAt: '2026-12-03T09:00:00.000Z' },
  events: [],
});
const cart = (id: string, name: string, input: unknown = {}) => commit('Cart', id, name, input);

async function rows(tenant: string, stream?: StreamRef) {
  const { rows: found } = await database.query<{
    aggregate_id: string;
    version: number;
    type: string;
    id: string;
    data: Record<string, unknown>;
    metadata: Record<string, unknown>;
    occurred_at: string | Date;
  }>(
    `SELECT aggregate_id, version, type, id, data, metadata, occurred_at FROM strata_events
      WHERE tenant = $1 AND ($2::text IS NULL OR aggregate_id = $2) ORDER BY tenant_position`,
    [tenant, stream?.aggregateId ?? null],
  );
  return found.map((row) => ({
    ...row,
    version: Number(row.version),
    occurredAt: new Date(row.occurred_at).getTime(),
  }));
}

async function logged(tenant: string) {
  const { rows: found } = await database.query<{ command_id: string; event_count: number }>(
    'SELECT command_id, event_count FROM strata_commands WHERE tenant = $1 ORDER BY command_id',
    [tenant],
  );
  return new Map(found.map((row) => [row.command_id, Number(row.event_count)]));
}

/** Statements and transactions of one push. */
async function counted(work: () => Promise<unknown>) {
  counter.statements = 0;
  counter.transactions = 0;
  await work();
  return { ...counter };
}

describe('authority decide, a push at a time (Postgres through the Neon driver)', () => {
  it('stores the commands of a push in a constant number of statements, 5 or 60 of them', async () => {
    const small = await client();
    const large = await client();
    const few = await counted(() =>
      small.push(Array.from({ length: 5 }, (_, i) => cart(`cart-${i}`, 'open'))),
    );
    const many = await counted(() =>
      large.push(Array.from({ length: 60 }, (_, i) => cart(`cart-${i}`, 'open'))),
    );
    // One lookup of the command ids, one read of the carts' events, and one transaction.
    expect(many.transactions).toBe(1);
    expect(few.transactions).toBe(1);
    expect(many.statements).toBe(few.statements);
    expect(await rows(large.tenant)).toHaveLength(60);
    expect((await logged(large.tenant)).size).toBe(60);
  });

  it('chains commands on one aggregate; a refusal decides nothing and the next one sees the state without it', async () => {
    const ann = await client();
    const pushed = [
      cart('c', 'open'),
      ...Array.from({ length: CART_LIMIT + 1 }, (_, i) => cart('c', 'addItem', { sku: `s-${i}` })),
      cart('c', 'removeItem', { sku: 's-0' }),
      cart('c', 'addItem', { sku: 'fits-now' }),
      cart('other', 'open'),
    ];
    const results = await ann.push(pushed);
    expect(results.map((result) => result.code ?? result.status)).toEqual([
      'accepted',
      ...Array.from({ length: CART_LIMIT }, () => 'accepted'),
      'DOMAIN_RULE_VIOLATED',
      'accepted',
      'accepted',
      'accepted',
    ]);
    const stored = await rows(ann.tenant, { aggregateType: 'Cart', aggregateId: 'c' });
    expect(stored.map((row) => row.version)).toEqual(
      Array.from({ length: CART_LIMIT + 3 }, (_, i) => i + 1),
    );
    expect(stored.slice(-2).map((row) => row.type)).toEqual(['ItemRemoved', 'ItemAdded']);
    // Answers name exactly what was stored, in the push's order, with the server's metadata.
    const answered = results.flatMap((result) => result.events ?? []).map((event) => event.id);
    expect(answered).toEqual((await rows(ann.tenant)).map((row) => row.id));
    const log = await logged(ann.tenant);
    expect(log.size).toBe(pushed.length - 1);
    expect(log.has(pushed[CART_LIMIT + 1]?.commitId as string)).toBe(false);
    expect(stored[0]?.metadata).toMatchObject({ userId: 'ann', tenant: ann.tenant });
    // Decided within a few milliseconds, yet in order by time (apps sort by occurredAt).
    const times = (await rows(ann.tenant)).map((row) => row.occurredAt);
    expect(times.every((time, i) => i === 0 || time > (times[i - 1] as number))).toBe(true);
  });

  it('a re-pushed push is answered from the log and stores nothing twice, even two at once', async () => {
    const ann = await client();
    const pushed = [cart('r', 'open'), cart('r', 'addItem', { sku: 'a' }), cart('r2', 'open')];
    const first = await ann.push(pushed);
    const [again, alsoAgain] = await Promise.all([ann.push(pushed), ann.push(pushed)]);
    expect(again).toEqual(first);
    expect(alsoAgain).toEqual(first);
    expect(await rows(ann.tenant)).toHaveLength(3);

    const racing = await client();
    const fresh = [cart('q', 'open'), cart('q', 'addItem', { sku: 'b' }), cart('q2', 'open')];
    const [one, other] = await Promise.all([racing.push(fresh), racing.push(fresh)]);
    expect(one).toEqual(other);
    expect(one.map((result) => result.status)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(await rows(racing.tenant)).toHaveLength(3);
    expect((await logged(racing.tenant)).size).toBe(3);
  });

  it('a writer that stores between the batch’s load and its write: that command is decided again on the new state', async () => {
    const ann = await client();
    await ann.push([cart('raced', 'open')]);
    // Another server instance on the same database (its own append queue and state cache).
    const instance = createSyncApp({
      database,
      authenticate: jwtAuthentication({ secret: SECRET }),
      aggregates: [Todo, Cart],
      onError: () => undefined,
    });
    const token = await bearerToken(SECRET, ann.tenant, 'ann');
    let raced = false;
    afterStatement = async (text, params) => {
      // Right after the batch loaded the cart, the other instance adds an item to it.
      if (
        !raced &&
        text.includes('FROM strata_events') &&
        JSON.stringify(params ?? []).includes('"raced"')
      ) {
        raced = true;
        const response = await instance.request('/v2/push', {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            protocol: 2,
            clientId: 'device-2',
            commits: [cart('raced', 'addItem', { sku: 'racer' })],
          }),
        });
        expect(response.status).toBe(200);
      }
    };
    try {
      const results = await ann.push([
        cart('raced', 'addItem', { sku: 'mine' }),
        cart('calm', 'open'),
      ]);
      expect(raced).toBe(true);
      expect(results.map((result) => result.status)).toEqual(['accepted', 'accepted']);
      expect(results[0]?.events.map((event: Answer) => event.version)).toEqual([3]);
    } finally {
      afterStatement = async () => undefined;
      await instance.close();
    }
    const stored = await rows(ann.tenant, { aggregateType: 'Cart', aggregateId: 'raced' });
    expect(stored.map((row) => [row.version, row.data.sku ?? null])).toEqual([
      [1, null],
      [2, 'racer'],
      [3, 'mine'],
    ]);
    expect((await logged(ann.tenant)).size).toBe(4);
  });

  it('a hook refusing one aggregate rejects that command only; the log holds only what was stored', async () => {
    const ann = await client();
    const pushed = [cart('fine-1', 'open'), cart('vetoed-1', 'open'), cart('fine-2', 'open')];
    const results = await ann.push(pushed);
    expect(results.map((result) => result.code ?? result.status)).toEqual([
      'accepted',
      'FORBIDDEN',
      'accepted',
    ]);
    expect((await rows(ann.tenant)).map((row) => row.aggregate_id)).toEqual(['fine-1', 'fine-2']);
    expect([...(await logged(ann.tenant)).keys()].sort()).toEqual(
      [pushed[0]?.commitId, pushed[2]?.commitId].sort(),
    );
  });

  it('the database lost during the batch’s write: 503, and nothing of the push is stored or logged', async () => {
    const ann = await client();
    beforeStatement = async (text) => {
      if (text.includes('INSERT INTO strata_events')) {
        throw new UnavailableError('The database connection was lost') as StrataError;
      }
    };
    try {
      await ann.push([cart('lost-1', 'open'), cart('lost-2', 'open')], 503);
    } finally {
      beforeStatement = async () => undefined;
    }
    expect(await rows(ann.tenant)).toEqual([]);
    expect((await logged(ann.tenant)).size).toBe(0);
    // The device tries again: everything is stored once.
    const results = await ann.push([cart('lost-1', 'open'), cart('lost-2', 'open')]);
    expect(results.map((result) => result.status)).toEqual(['accepted', 'accepted']);
    expect(await rows(ann.tenant)).toHaveLength(2);
  });

  it('saves the snapshot a policy asks for inside the batch, with the state of its version', async () => {
    const ann = await client();
    const pushed = [
      commit('Todo', 't', 'add', { title: 'first' }),
      ...Array.from({ length: 100 }, (_, i) => commit('Todo', 't', 'rename', { title: `n${i}` })),
    ];
    const results = await ann.push(pushed);
    expect(results.every((result) => result.status === 'accepted')).toBe(true);
    const { rows: snapshots } = await database.query<{ version: number; state: Answer }>(
      `SELECT version, state FROM strata_snapshots WHERE tenant = $1 AND aggregate_id = 't'`,
      [ann.tenant],
    );
    // everyNVersions(100): taken at version 100, after the 99th rename.
    expect(snapshots.map((row) => Number(row.version))).toEqual([100]);
    expect(snapshots[0]?.state).toMatchObject({ title: 'n98' });
    expect((await rows(ann.tenant)).map((row) => row.version)).toEqual(
      Array.from({ length: 101 }, (_, i) => i + 1),
    );

    // The next push loads the todo from its snapshot and the one event after it, with the
    // renames of other todos, in as many statements as a push on new todos.
    const next = () => [
      commit('Todo', 't', 'rename', { title: 'after the snapshot' }),
      commit('Todo', 't', 'complete', {}),
      commit('Todo', 'new', 'add', { title: 'new' }),
    ];
    const other = await client();
    await other.push([commit('Todo', 't', 'add', { title: 'x' })]);
    const onNew = await counted(() => other.push(next()));
    const onSnapshot = await counted(() => ann.push(next()));
    expect(onSnapshot).toEqual(onNew);
    const t = await rows(ann.tenant, { aggregateType: 'Todo', aggregateId: 't' });
    expect(t.slice(-2).map((row) => [row.version, row.type])).toEqual([
      [102, 'TodoRenamed'],
      [103, 'TodoCompleted'],
    ]);
    const { rows: states } = await database.query<{ version: number; state: Answer }>(
      `SELECT version, state FROM strata_snapshots WHERE tenant = $1 AND aggregate_id = 't'`,
      [ann.tenant],
    );
    expect(states.map((row) => Number(row.version))).toEqual([100]);
  });

  it('an aggregate whose stored snapshot no longer fits is loaded from its events', async () => {
    const ann = await client();
    await ann.push([commit('Todo', 'odd', 'add', { title: 'first' })]);
    await database.query(
      `INSERT INTO strata_snapshots (tenant, aggregate_type, aggregate_id, version, state, fingerprint, taken_at)
       VALUES ($1, 'Todo', 'odd', 1, '{"status":"removed","title":"bogus"}'::jsonb, 'another-fingerprint', now())`,
      [ann.tenant],
    );
    const results = await ann.push([commit('Todo', 'odd', 'rename', { title: 'second' })]);
    expect(results[0]).toMatchObject({ status: 'accepted' });
    const odd = await rows(ann.tenant, { aggregateType: 'Todo', aggregateId: 'odd' });
    expect(odd.map((row) => [row.version, row.data.title])).toEqual([
      [1, 'first'],
      [2, 'second'],
    ]);
  });

  /** A `verify` commit: the note the client predicts at `version`, written at `at`. */
  const note = (id: string, version: number, text: string, at: string, data = { text, at }) => ({
    commitId: newKsuid(),
    command: {
      aggregateType: 'Note',
      aggregateId: id,
      name: 'note',
      input: { text },
      issuedAt: at,
    },
    events: [
      {
        id: newKsuid(),
        type: 'Noted',
        schemaVersion: 1,
        aggregateType: 'Note',
        aggregateId: id,
        version,
        occurredAt: at,
        data,
        metadata: {},
      },
    ],
  });
  const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

  it('verify: a run of predictions, chained on one note and across notes, in one transaction with the client’s ids', async () => {
    const ann = await client();
    const pushed = [
      note('m1', 1, 'a', minutesAgo(10)),
      note('m1', 2, 'b', minutesAgo(9)),
      note('m2', 1, 'c', minutesAgo(8)),
      note('m1', 3, 'd', minutesAgo(7)),
    ];
    const { transactions } = await counted(async () => {
      const results = await ann.push(pushed);
      expect(results.map((result) => result.status)).toEqual(Array(4).fill('accepted'));
    });
    expect(transactions).toBe(1);
    expect((await rows(ann.tenant)).map((row) => row.id)).toEqual(
      pushed.map((commit) => commit.events[0]?.id),
    );
    expect((await logged(ann.tenant)).size).toBe(4);
  });

  it('verify: a prediction the server decides otherwise is refused, and blocks the later ones of its note only', async () => {
    const ann = await client();
    await ann.push([note('v', 1, 'first', minutesAgo(30))]);
    const at = minutesAgo(20);
    const results = await ann.push([
      note('v', 2, 'forged', at, { text: 'forged', at: 'not when it happened' }),
      note('v', 3, 'on top', minutesAgo(19)),
      note('other', 1, 'fine', minutesAgo(18)),
      // Before the note's last event: the device's clock may not be trusted that far.
      note('v', 2, 'too early', minutesAgo(40)),
    ]);
    expect(results.map((result) => result.code ?? result.status)).toEqual([
      'PREDICTION_MISMATCH',
      'VERSION_CONFLICT',
      'accepted',
      'VERSION_CONFLICT',
    ]);
    expect(results[1]?.message).toMatch(/earlier commit/);
    expect(results[0]?.currentVersion).toBe(1);
    const stored = await rows(ann.tenant);
    expect(stored.map((row) => [row.aggregate_id, row.version])).toEqual([
      ['v', 1],
      ['other', 1],
    ]);
    // Alone, the too-early prediction is refused for its time.
    const [early] = await ann.push([note('v', 2, 'too early', minutesAgo(40))]);
    expect(early).toMatchObject({ status: 'rejected', code: 'PREDICTION_MISMATCH' });
    expect((await rows(ann.tenant)).length).toBe(2);
  });
});
