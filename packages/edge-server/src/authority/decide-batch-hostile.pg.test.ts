/**
 * Hostile cases of the batched server decisions (decide-batch.ts) and of a push's `events`
 * commits stored together, on real Postgres through the Neon driver, from an adversarial review:
 * each asserts that the batch answers and stores what the one-command path one command after the
 * other would (most first run a control: the same commands one push at a time), in the database
 * afterwards: the handler's state cache after a batch, a command id clash in a transaction shared
 * by pushes, scope rules judged commit by commit, refusal versions, long histories, lost
 * databases at every statement, encryption, and one transaction for a run on one aggregate.
 */
import {
  ForbiddenError,
  newKsuid,
  type StrataError,
  type StreamRef,
  UnauthorizedError,
  UnavailableError,
} from '@strata/core';
import {
  assignedTo,
  CART_LIMIT,
  Cart,
  project,
  Task,
  Todo,
  taskScopes,
} from '@strata/example-todo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Diary } from '../../test/fixtures/authority-aggregates.ts';
import { neonSuiteDatabase, type SuiteDatabase } from '../../test/suites/suite-databases.ts';
import type { Principal } from '../app/auth.ts';
import { createSyncApp, type SyncApp } from '../app/create-sync-app.ts';
import { encryptAggregates } from '../crypto/encryption-options.ts';
import { migrate } from '../migrations/migrations.ts';
import { createPostgresEventStore } from '../postgres/postgres-event-store.ts';
import type { SqlDatabase, SqlExecutor } from '../postgres/sql-database.ts';
import { createCommandAuthority } from './command-authority.ts';

type Answer = Record<string, any>;

let suite: SuiteDatabase;
let raw: SqlDatabase;
let database: SqlDatabase;
/** Todo, Cart decided by the server; Diary `events`. */
let app: SyncApp;
/** Task decided by the server, with scopes. */
let scoped: SyncApp;
/** The same scopes, Task under authority `events`. */
let scopedEvents: SyncApp;
/** Todo encrypted at rest. */
let encrypted: SyncApp;

/** Transactions begun through the wrapped database. */
const transactions = { count: 0 };
/** The params of each transaction's read of its aggregates' versions (all its groups'). */
const versionReads: string[] = [];
/** What the wrapped database does before a statement runs (holds, faults). */
let beforeStatement: (text: string, params: readonly unknown[] | undefined) => Promise<void> =
  async () => undefined;

function instrumented(db: SqlDatabase): SqlDatabase {
  const wrap = (executor: SqlExecutor): SqlExecutor => ({
    query: async <TRow = Record<string, unknown>>(text: string, params?: readonly unknown[]) => {
      if (text.includes('SELECT s.type, s.id')) versionReads.push(JSON.stringify(params ?? []));
      await beforeStatement(text, params);
      return executor.query<TRow>(text, params);
    },
  });
  return {
    ...wrap(db),
    transaction: (work) => {
      transactions.count++;
      return db.transaction((tx) => work(wrap(tx)));
    },
  };
}

const authenticate = (request: Request): Principal => {
  const tenant = request.headers.get('x-tenant');
  const subject = request.headers.get('x-user');
  if (!tenant || !subject) throw new UnauthorizedError('who?');
  return { tenant, subject };
};

beforeAll(async () => {
  suite = await neonSuiteDatabase();
  raw = suite.database;
  await migrate(raw);
  database = instrumented(raw);
  app = createSyncApp({
    database,
    authenticate,
    aggregates: [Todo, Cart, Diary],
    authority: { Diary: 'events' },
    limits: { maxEventsPerPush: 2000 },
    appendHooks: [
      // An app rule inside the append: a cart named `vetoed-*` is never stored.
      (events) => {
        const vetoed = events.find((event) => event.aggregateId.startsWith('vetoed-'));
        if (vetoed !== undefined) throw new ForbiddenError(`${vetoed.aggregateId} is vetoed`);
      },
    ],
    onError: () => undefined,
  });
  encrypted = createSyncApp({
    database,
    authenticate,
    aggregates: [Todo],
    encryption: encryptAggregates(['Todo']),
    onError: () => undefined,
  });
  const scopes = {
    definitions: [project, assignedTo],
    membership: [taskScopes],
    rules: {
      // ann is a member of project pA only; everyone holds the tasks assigned to them.
      project: (principal: Principal, { projectId }: { projectId: string }) =>
        principal.subject === 'ann' && projectId === 'pA',
      assignedTo: (principal: Principal, { userId }: { userId: string }) =>
        principal.subject === userId,
      tenant: (principal: Principal) => principal.subject === 'root',
    },
  };
  scoped = createSyncApp({
    database,
    authenticate,
    aggregates: [Task],
    scopes,
    onError: () => undefined,
  });
  scopedEvents = createSyncApp({
    database,
    authenticate,
    aggregates: [Task],
    authority: { Task: 'events' },
    scopes,
    onError: () => undefined,
  });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await scoped?.close();
  await scopedEvents?.close();
  await encrypted?.close();
  await suite?.close();
});

let tenants = 0;
function client(user = 'ann', tenant = `review-${tenants++}`, on: SyncApp = app) {
  const headers = { 'x-tenant': tenant, 'x-user': user, 'content-type': 'application/json' };
  return {
    tenant,
    as: (other: string) => client(other, tenant, on),
    async push(commits: readonly unknown[]) {
      const response = await on.request('/v2/push', {
        method: 'POST',
        headers,
        body: JSON.stringify({ protocol: 2, clientId: `device-${user}`, commits }),
      });
      return { status: response.status, body: (await response.json()) as Answer };
    },
    async results(commits: readonly unknown[]) {
      const { status, body } = await this.push(commits);
      expect(status, JSON.stringify(body)).toBe(200);
      return body.results as Answer[];
    },
    /** `POST /v2/commands`: one command, as a thin client sends it. */
    async command(aggregateType: string, aggregateId: string, name: string, input: unknown) {
      const response = await on.request('/v2/commands', {
        method: 'POST',
        headers,
        body: JSON.stringify({ aggregateType, aggregateId, name, input }),
      });
      return { status: response.status, body: (await response.json()) as Answer };
    },
  };
}

const commit = (aggregateType: string, aggregateId: string, name: string, input: unknown) => ({
  commitId: newKsuid(),
  command: { aggregateType, aggregateId, name, input, issuedAt: '2026-12-03T09:00:00.000Z' },
  events: [] as unknown[],
});
const todo = (id: string, name: string, input: unknown = {}) => commit('Todo', id, name, input);
const cart = (id: string, name: string, input: unknown = {}) => commit('Cart', id, name, input);
const task = (id: string, name: string, input: unknown = {}) => commit('Task', id, name, input);
/** An `events` commit: the client's own event, stored as pushed. */
const diary = (id: string, version: number, text: string) => {
  const base = commit('Diary', id, 'write', { text });
  return {
    ...base,
    events: [
      {
        id: newKsuid(),
        type: 'Written',
        schemaVersion: 1,
        aggregateType: 'Diary',
        aggregateId: id,
        version,
        occurredAt: new Date(Date.now() - 60_000).toISOString(),
        data: { text },
        metadata: {},
      },
    ],
  };
};

async function rows(tenant: string, stream?: StreamRef) {
  const { rows: found } = await raw.query<{
    aggregate_id: string;
    version: number;
    type: string;
    data: Record<string, unknown>;
  }>(
    `SELECT aggregate_id, version, type, data FROM strata_events
      WHERE tenant = $1 AND ($2::text IS NULL OR aggregate_id = $2) ORDER BY tenant_position`,
    [tenant, stream?.aggregateId ?? null],
  );
  return found.map((row) => ({ ...row, version: Number(row.version) }));
}

async function logged(tenant: string) {
  const { rows: found } = await raw.query<{
    command_id: string;
    aggregate_id: string;
    first_version: number;
    event_count: number;
  }>(
    `SELECT command_id, aggregate_id, first_version, event_count FROM strata_commands
      WHERE tenant = $1`,
    [tenant],
  );
  return new Map(
    found.map((row) => [
      row.command_id,
      {
        aggregateId: row.aggregate_id,
        firstVersion: Number(row.first_version),
        count: Number(row.event_count),
      },
    ]),
  );
}

const codeOf = (result: Answer | undefined) => result?.code ?? result?.status;

/**
 * Holds the transaction whose command log names `aggregateId` until `release`: pushes of the
 * same tenant that arrive meanwhile queue and then share the next transaction.
 */
function holdAtLog(aggregateId: string) {
  let reached!: () => void;
  const atLog = new Promise<void>((resolve) => {
    reached = resolve;
  });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  beforeStatement = async (text, params) => {
    if (
      text.includes('INSERT INTO strata_commands') &&
      JSON.stringify(params ?? []).includes(`"${aggregateId}"`)
    ) {
      reached();
      await gate;
    }
  };
  return {
    atLog,
    release: () => {
      beforeStatement = async () => undefined;
      release();
    },
  };
}

describe('batched decide: the handler’s state cache after a batch (Postgres through Neon)', () => {
  it('a single command after a batch is decided on the stored state, not on the state cached before the batch', async () => {
    // Control: the same three commands one at a time through the handler are decided right.
    const control = client();
    await control.command('Todo', 't', 'add', { title: 'x' });
    await control.command('Todo', 't', 'complete', {});
    expect((await control.command('Todo', 't', 'reopen', {})).body.events).toHaveLength(1);

    const ann = client();
    // A thin client adds the todo: the tenant's command handler caches it at version 1.
    expect((await ann.command('Todo', 't', 'add', { title: 'x' })).status).toBe(200);
    // A device completes it; the batch appends past the handler (version 2).
    expect((await ann.results([todo('t', 'complete')])).map(codeOf)).toEqual(['accepted']);
    // Reopening must store TodoReopened: the stored todo is completed.
    const reopened = await ann.command('Todo', 't', 'reopen', {});
    expect(reopened.status).toBe(200);
    expect(reopened.body.events.map((event: Answer) => event.type)).toEqual(['TodoReopened']);
    expect((await rows(ann.tenant)).map((row) => row.type)).toEqual([
      'TodoAdded',
      'TodoCompleted',
      'TodoReopened',
    ]);
  });

  it('a command the batch refuses is not accepted by decideOne on a state cached before an earlier batch', async () => {
    // Control: without a state cached before the batch, the rename is refused.
    const control = client();
    await control.results([todo('r', 'add', { title: 'same' })]);
    await control.results([todo('r', 'remove')]);
    expect((await control.results([todo('r', 'rename', { title: 'same' })])).map(codeOf)).toEqual([
      'DOMAIN_RULE_VIOLATED',
    ]);

    const ann = client();
    expect((await ann.command('Todo', 'r', 'add', { title: 'same' })).status).toBe(200);
    expect((await ann.results([todo('r', 'remove')])).map(codeOf)).toEqual(['accepted']);
    // One after the other: the todo is removed, renaming it is refused.
    const pushed = todo('r', 'rename', { title: 'same' });
    const [renamed] = await ann.results([pushed]);
    expect(renamed).toMatchObject({ status: 'rejected', code: 'DOMAIN_RULE_VIOLATED' });
    expect(renamed?.message).toMatch(/removed/);
    // Nothing logged for a refusal (a refused command may be pushed again).
    expect((await logged(ann.tenant)).has(pushed.commitId)).toBe(false);
  });
});

describe('batched decide: tenant group commit (Postgres through Neon)', () => {
  it('a command id another request logged fails only its own push, not a push sharing its transaction', async () => {
    const ann = client('ann');
    const bob = ann.as('bob');
    const shared = newKsuid();
    let reached!: () => void;
    const atLog = new Promise<void>((resolve) => {
      reached = resolve;
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Bob's batch is held inside its transaction, at its command log, while two pushes queue.
    beforeStatement = async (text, params) => {
      if (
        text.includes('INSERT INTO strata_commands') &&
        JSON.stringify(params ?? []).includes('"held-cart"')
      ) {
        reached();
        await gate;
      }
    };
    try {
      const bobs = bob.push([{ ...cart('held-cart', 'open'), commitId: shared }]);
      await atLog;
      // Ann reuses the id (a forged or buggy client) on another cart; decided before bob commits.
      const reused = ann.push([{ ...cart('ann-cart', 'open'), commitId: shared }]);
      // Ann's other device pushes an unrelated `events` commit meanwhile.
      const innocent = ann.push([diary('d1', 1, 'hello')]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      release();
      const [b, r, i] = await Promise.all([bobs, reused, innocent]);
      expect(b.status).toBe(200);
      expect(r.status).toBe(200);
      expect(r.body.results.map(codeOf)).toEqual(['FORBIDDEN']);
      // The `events` push has nothing to do with the id: it is stored.
      expect(i.status, JSON.stringify(i.body)).toBe(200);
      expect(i.body.results.map(codeOf)).toEqual(['accepted']);
    } finally {
      beforeStatement = async () => undefined;
      release();
    }
    expect((await rows(ann.tenant)).map((row) => row.aggregate_id).sort()).toEqual([
      'd1',
      'held-cart',
    ]);
  });
});

describe('batched decide: scoped servers (Postgres through Neon)', () => {
  it('a command refused by the scope write check is refused in a batch too, whatever the next command does', async () => {
    // Control: the same two commands in two pushes.
    const control = client('ann', `review-scoped-${tenants++}`, scoped);
    const one = await control.results([
      task('t1', 'create', { projectId: 'pB', title: 'sneaky', assignee: 'bob' }),
    ]);
    const two = await control.results([task('t1', 'move', { projectId: 'pA' })]);
    expect([...one, ...two].map(codeOf)).toEqual(['FORBIDDEN', 'DOMAIN_RULE_VIOLATED']);

    const ann = client('ann', `review-scoped-${tenants++}`, scoped);
    // One after the other: creating a task in pB for bob is outside ann's scopes (FORBIDDEN);
    // moving the task that does not exist is TASK_NOT_FOUND.
    const results = await ann.results([
      task('t1', 'create', { projectId: 'pB', title: 'sneaky', assignee: 'bob' }),
      task('t1', 'move', { projectId: 'pA' }),
    ]);
    expect(results.map(codeOf)).toEqual(['FORBIDDEN', 'DOMAIN_RULE_VIOLATED']);
    expect(await rows(ann.tenant)).toEqual([]);
    // pB's members never see a task ann may not write there.
    const { rows: scopeRows } = await raw.query(
      'SELECT scope, kind FROM strata_scope_rows WHERE tenant = $1',
      [ann.tenant],
    );
    expect(scopeRows).toEqual([]);
  });

  it('a command on a task the previous command moved outside the writer’s scopes is refused', async () => {
    // Control: the same two commands in two pushes.
    const controlTenant = `review-scoped-${tenants++}`;
    const controlRoot = client('root', controlTenant, scoped);
    await controlRoot.results([
      task('t2', 'create', { projectId: 'pA', title: 'a', assignee: 'bob' }),
    ]);
    const controlAnn = controlRoot.as('ann');
    const moved = await controlAnn.results([task('t2', 'move', { projectId: 'pB' })]);
    const renamed = await controlAnn.results([task('t2', 'rename', { title: 'renamed' })]);
    expect([...moved, ...renamed].map(codeOf)).toEqual(['accepted', 'FORBIDDEN']);

    const tenant = `review-scoped-${tenants++}`;
    const root = client('root', tenant, scoped);
    const ann = root.as('ann');
    expect(
      (
        await root.results([task('t2', 'create', { projectId: 'pA', title: 'a', assignee: 'bob' })])
      ).map(codeOf),
    ).toEqual(['accepted']);
    // One after the other: ann may move the task out of pA (she holds pA before the move), but
    // then it is in pB and bob's scopes only: renaming it is FORBIDDEN.
    const results = await ann.results([
      task('t2', 'move', { projectId: 'pB' }),
      task('t2', 'rename', { title: 'renamed outside my scopes' }),
    ]);
    expect(results.map(codeOf)).toEqual(['accepted', 'FORBIDDEN']);
    expect((await rows(tenant)).map((row) => row.type)).toEqual(['TaskCreated', 'TaskMoved']);
  });
});

describe('batched decide: answers as one after the other (Postgres through Neon)', () => {
  it('a refusal reports the version at its own turn, not after the later commands of the run', async () => {
    const ann = client();
    await ann.results([
      cart('v', 'open'),
      ...Array.from({ length: CART_LIMIT }, (_, i) => cart('v', 'addItem', { sku: `s-${i}` })),
    ]);
    // Version 11: full. The refusal is at version 11; the removal after it makes 12.
    const results = await ann.results([
      cart('v', 'addItem', { sku: 'too-many' }),
      cart('v', 'removeItem', { sku: 's-0' }),
    ]);
    expect(results.map(codeOf)).toEqual(['DOMAIN_RULE_VIOLATED', 'accepted']);
    expect(results[0]?.currentVersion).toBe(CART_LIMIT + 1);
  });

  it('the same command id twice in one decideMany call stores the command once (authority API)', async () => {
    const tenant = `review-${tenants++}`;
    const principal = { tenant, subject: 'ann' };
    const authority = createCommandAuthority({
      database: raw,
      aggregates: new Map([[Todo.type, Todo]]),
      storeFor: (who) => createPostgresEventStore(raw, { tenant: who.tenant }),
      canWrite: () => true,
    });
    const id = newKsuid();
    const add = (aggregateId: string) => ({
      commandId: id,
      aggregateType: 'Todo',
      aggregateId,
      name: 'add',
      input: { title: aggregateId },
    });
    // One after the other: the second use of the id is FORBIDDEN (another command).
    const answers = await authority.decideMany({ principal }, [add('first'), add('second')]);
    const stored = (answer: Answer) => answer.status === 'stored';
    expect((await rows(tenant)).map((row) => row.aggregate_id)).toEqual(['first']);
    expect([...(await logged(tenant)).values()].map((row) => row.aggregateId)).toEqual(['first']);
    // A retry of the first command is still answered with what it stored.
    const again = await authority.decide({ principal }, add('first'));
    expect(again.map((event) => event.aggregateId)).toEqual(['first']);
    expect(answers.map((answer) => stored(answer as Answer))).toEqual([true, false]);
  });
});

describe('batched decide: long histories, re-pushes, shared transactions, lost databases, encryption', () => {
  it('an aggregate with more than one page (1000) of events is folded from both pages', async () => {
    const ann = client();
    // Cart takes no snapshots: 1 open + 500 add/remove pairs (1001) + 10 adds = version 1011.
    const pairs = Array.from({ length: 500 }, (_, i) => [
      cart('long', 'addItem', { sku: `p-${i}` }),
      cart('long', 'removeItem', { sku: `p-${i}` }),
    ]).flat();
    const fill = Array.from({ length: CART_LIMIT }, (_, i) =>
      cart('long', 'addItem', { sku: `last-${i}` }),
    );
    const first = await ann.results([cart('long', 'open'), ...pairs.slice(0, 999)]);
    expect(first.every((result) => result.status === 'accepted')).toBe(true);
    const second = await ann.results([...pairs.slice(999), ...fill]);
    expect(second.every((result) => result.status === 'accepted')).toBe(true);
    expect((await rows(ann.tenant)).length).toBe(1 + 1000 + CART_LIMIT);
    // Full only by the events after version 1000: the next add is refused, a removal fits.
    const results = await ann.results([
      cart('long', 'addItem', { sku: 'over' }),
      cart('long', 'removeItem', { sku: 'last-0' }),
      cart('long', 'addItem', { sku: 'fits' }),
    ]);
    expect(results.map(codeOf)).toEqual(['DOMAIN_RULE_VIOLATED', 'accepted', 'accepted']);
    expect(results[1]?.events.map((event: Answer) => event.version)).toEqual([1012]);
    expect(results[2]?.events.map((event: Answer) => event.version)).toEqual([1013]);
  }, 60_000);

  it('a re-pushed command is answered from the log for its own user only; another user reusing the id is FORBIDDEN and stores nothing', async () => {
    const ann = client();
    const bob = ann.as('bob');
    const pushed = [cart('own', 'open'), cart('own', 'addItem', { sku: 'a' })];
    const first = await ann.results(pushed);
    const [replayA, replayB] = await bob.results(pushed);
    expect([codeOf(replayA), codeOf(replayB)]).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    expect(await ann.results(pushed)).toEqual(first);
    expect(await rows(ann.tenant)).toHaveLength(2);
    expect((await logged(ann.tenant)).size).toBe(2);
  });

  it('a hook refusal in a transaction shared by two pushes of a tenant: each push on its own, the log holds exactly what was stored', async () => {
    const ann = client('ann');
    const bob = ann.as('bob');
    const carol = ann.as('carol');
    const hold = holdAtLog('held-first');
    const first = carol.results([cart('held-first', 'open')]);
    await hold.atLog;
    const annPushed = [cart('fine-1', 'open'), cart('vetoed-1', 'open'), cart('fine-2', 'open')];
    const bobPushed = [cart('bobs', 'open'), cart('bobs', 'addItem', { sku: 'b' })];
    const annResults = ann.results(annPushed);
    const bobResults = bob.results(bobPushed);
    await new Promise((resolve) => setTimeout(resolve, 500));
    hold.release();
    await first;
    expect((await annResults).map(codeOf)).toEqual(['accepted', 'FORBIDDEN', 'accepted']);
    expect((await bobResults).map(codeOf)).toEqual(['accepted', 'accepted']);
    // They did share a transaction (one read of both pushes' versions), then each went alone.
    expect(
      versionReads.some((read) => read.includes('"vetoed-1"') && read.includes('"bobs"')),
    ).toBe(true);
    const stored = await rows(ann.tenant);
    expect(stored.map((row) => row.aggregate_id).sort()).toEqual(
      ['bobs', 'bobs', 'fine-1', 'fine-2', 'held-first'].sort(),
    );
    const log = await logged(ann.tenant);
    expect([...log.keys()].sort()).toEqual(
      [
        annPushed[0]?.commitId,
        annPushed[2]?.commitId,
        ...bobPushed.map((pushed) => pushed.commitId),
      ]
        .concat([...log.keys()].filter((id) => log.get(id)?.aggregateId === 'held-first'))
        .sort(),
    );
    expect(log.get(bobPushed[1]?.commitId as string)).toMatchObject({ firstVersion: 2, count: 1 });
  });

  it('the database lost at each statement of a push: 503, each command stored with its log or not at all, and the retry answers it', async () => {
    const steps = [
      'FROM strata_commands', // the ids' lookup
      'FROM strata_snapshots', // the snapshots' read
      'CROSS JOIN LATERAL', // the events' read
      'SELECT s.type, s.id', // the versions inside the transaction
      'INSERT INTO strata_events',
      'INSERT INTO strata_commands',
    ];
    for (const step of steps) {
      const ann = client();
      const pushed = [
        todo('a', 'add', { title: 'a' }),
        todo('a', 'rename', { title: 'a2' }),
        todo('b', 'add', { title: 'b' }),
      ];
      beforeStatement = async (text) => {
        if (text.includes(step)) throw new UnavailableError('lost') as StrataError;
      };
      let status: number;
      try {
        ({ status } = await ann.push(pushed));
      } finally {
        beforeStatement = async () => undefined;
      }
      expect(status, step).toBe(503);
      expect(await rows(ann.tenant), step).toEqual([]);
      expect((await logged(ann.tenant)).size, step).toBe(0);
      const results = await ann.results(pushed);
      expect(results.map(codeOf), step).toEqual(['accepted', 'accepted', 'accepted']);
      expect(
        (await rows(ann.tenant)).map((row) => row.type),
        step,
      ).toEqual(['TodoAdded', 'TodoRenamed', 'TodoAdded']);
    }
  });

  it('the database lost in the one-command path after a stored part of the run: 503, the stored part logged, the retry answers all', async () => {
    const ann = client();
    const pushed = [
      cart('k1', 'open'),
      cart('k2', 'open'),
      cart('not-open', 'addItem', { sku: 'x' }), // refused in memory: decideOne
      cart('k3', 'open'),
    ];
    let lookups = 0;
    beforeStatement = async (text) => {
      // The batch's lookup is the first; decideOne's own lookup of the refused command the second.
      if (text.includes('FROM strata_commands') && ++lookups === 2) {
        throw new UnavailableError('lost') as StrataError;
      }
    };
    let status: number;
    try {
      ({ status } = await ann.push(pushed));
    } finally {
      beforeStatement = async () => undefined;
    }
    expect(status).toBe(503);
    expect((await rows(ann.tenant)).map((row) => row.aggregate_id)).toEqual(['k1', 'k2']);
    expect([...(await logged(ann.tenant)).keys()].sort()).toEqual(
      [pushed[0]?.commitId, pushed[1]?.commitId].sort(),
    );
    const results = await ann.results(pushed);
    expect(results.map(codeOf)).toEqual([
      'accepted',
      'accepted',
      'DOMAIN_RULE_VIOLATED',
      'accepted',
    ]);
    expect((await rows(ann.tenant)).map((row) => row.aggregate_id)).toEqual(['k1', 'k2', 'k3']);
  });

  it('an encrypted aggregate: stored sealed, answered in plaintext, its snapshot at 100 taken by the one-command path', async () => {
    const ann = client('ann', `review-${tenants++}`, encrypted);
    const first = await ann.results([
      todo('e', 'add', { title: 'secret-0' }),
      ...Array.from({ length: 98 }, (_, i) => todo('e', 'rename', { title: `secret-${i + 1}` })),
    ]);
    expect(first.every((result) => result.status === 'accepted')).toBe(true);
    const results = await ann.results([
      todo('e', 'rename', { title: 'secret-at-100' }),
      todo('e', 'rename', { title: 'secret-at-101' }),
      todo('e', 'complete'),
    ]);
    expect(results.map((result) => result.events.map((event: Answer) => event.version))).toEqual([
      [100],
      [101],
      [102],
    ]);
    expect(results[0]?.events[0]?.data).toEqual({ title: 'secret-at-100' });
    const stored = await rows(ann.tenant);
    expect(stored).toHaveLength(102);
    expect(JSON.stringify(stored)).not.toContain('secret-');
    const { rows: snapshots } = await raw.query<{ version: number; state: Answer }>(
      'SELECT version, state FROM strata_snapshots WHERE tenant = $1',
      [ann.tenant],
    );
    expect(snapshots.map((row) => Number(row.version))).toEqual([100]);
    expect(snapshots[0]?.state).toMatchObject({ title: 'secret-at-100' });
    expect((await logged(ann.tenant)).size).toBe(102);
  });
});

describe('a push’s `events` commits: the scope write check judges each commit on its own', () => {
  it('an `events` commit outside the writer’s scopes is refused even when the next commit moves the task into them', async () => {
    const ann = client('ann', `review-scoped-${tenants++}`, scopedEvents);
    const taskEvent = (version: number, type: string, data: unknown) => ({
      id: newKsuid(),
      type,
      schemaVersion: 1,
      aggregateType: 'Task',
      aggregateId: 't3',
      version,
      occurredAt: new Date(Date.now() - 60_000).toISOString(),
      data,
      metadata: {},
    });
    const results = await ann.results([
      {
        ...task('t3', 'create', { projectId: 'pB', title: 'sneaky', assignee: 'bob' }),
        events: [
          taskEvent(1, 'TaskCreated', { projectId: 'pB', title: 'sneaky', assignee: 'bob' }),
        ],
      },
      {
        ...task('t3', 'move', { projectId: 'pA' }),
        events: [taskEvent(2, 'TaskMoved', { projectId: 'pA' })],
      },
    ]);
    expect(results[0]).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });
    expect(await rows(ann.tenant)).toEqual([]);
  });
});

describe('a run of commands on one aggregate (the common offline push)', () => {
  it('50 edits of one todo are stored in one transaction, as 50 todos are', async () => {
    const one = client();
    const many = client();
    transactions.count = 0;
    let logInserts = 0;
    beforeStatement = async (text) => {
      if (text.includes('INSERT INTO strata_commands')) logInserts++;
    };
    try {
      await one.results([
        todo('same', 'add', { title: 't' }),
        ...Array.from({ length: 49 }, (_, i) => todo('same', 'rename', { title: `t${i}` })),
      ]);
    } finally {
      beforeStatement = async () => undefined;
    }
    // The command log of the 50 is one statement, not one per hook call.
    expect(logInserts).toBe(1);
    const onOne = transactions.count;
    transactions.count = 0;
    await many.results(
      Array.from({ length: 50 }, (_, i) => todo(`todo-${i}`, 'add', { title: 't' })),
    );
    const onMany = transactions.count;
    expect(onMany).toBe(1);
    expect(onOne).toBe(onMany);
  });
});
