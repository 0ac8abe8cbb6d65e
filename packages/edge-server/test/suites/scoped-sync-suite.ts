import {
  newKsuid,
  readServerSentEvents,
  type ScopedSubscriptionMessage,
  ScopedSubscriptionMessageSchema,
  scopeKey,
  UnauthorizedError,
} from '@strata/core';
import { assignedTo, project, Task, Todo, taskScopes } from '@strata/example-todo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/app/auth.ts';
import { createSyncApp, type SyncApp } from '../../src/app/create-sync-app.ts';
import { migrate } from '../../src/migrations/migrations.ts';
import type { SqlDatabase, SqlExecutor } from '../../src/postgres/sql-database.ts';
import type { SuiteDatabase } from './suite-databases.ts';

// biome-ignore lint/suspicious/noExplicitAny: raw JSON answers, asserted field by field
type Answer = Record<string, any>;
type Message = ScopedSubscriptionMessage & { sseId?: string };

const P1 = project({ projectId: 'p1' }).key;
const P2 = project({ projectId: 'p2' }).key;
const ANN = assignedTo({ userId: 'ann' }).key;
const BOB = assignedTo({ userId: 'bob' }).key;
const AN_HOUR_AGO = new Date(Date.now() - 3_600_000).toISOString();

/** A database that remembers the text of every statement (also inside transactions). */
function recorded(database: SqlDatabase) {
  const statements: string[] = [];
  const wrap = (executor: SqlExecutor): SqlExecutor => ({
    query(text, params) {
      statements.push(text);
      return executor.query(text, params);
    },
  });
  const db: SqlDatabase = {
    ...wrap(database),
    transaction: (work) => database.transaction((transaction) => work(wrap(transaction))),
  };
  return { db, statements };
}

/** Statements that read a tenant's events or scope rows (what a refused request must not run). */
const readsData = (text: string) =>
  /strata_scope_rows|FROM strata_events|JOIN strata_events/.test(text) && !/^\s*INSERT/i.test(text);
/** The scoped read's one statement (read-scopes.ts). */
const isScopeRead = (text: string) => text.includes('WITH horizon AS MATERIALIZED');

/**
 * Scoped sync over raw HTTP (issue 15): `POST /v2/pull` and `GET /v2/subscribe` with forged
 * keys, bad bytes, params the schema refuses, another tenant's scope, scopes the principal may
 * not hold, and revocation during an open subscription; pushes (v1, v2 decide, `execute`)
 * outside the writer's scopes, each asserted in the database afterwards. Runs on PGlite in the
 * unit tier and on real Postgres through the Neon driver in the pg tier.
 */
export function describeScopedSync(label: string, open: () => Promise<SuiteDatabase>): void {
  let database: SqlDatabase;
  let statements: string[];
  let closeDatabase: () => Promise<void>;
  /** Task under authority `events` (raw v1 pushes), Todo with no membership. */
  let app: SyncApp;
  /** The same database, Task decided by the server. */
  let deciding: SyncApp;
  /** The same database, Task predictions verified by the server. */
  let verifying: SyncApp;
  /** Which projects each `tenant/user` belongs to; changed by tests (grants and revocations). */
  const projects = new Map<string, Set<string>>();
  const admins = new Set<string>(['root']);

  beforeAll(async () => {
    let raw: SqlDatabase;
    ({ database: raw, close: closeDatabase } = await open());
    await migrate(raw);
    ({ db: database, statements } = recorded(raw));
    const authenticate = (request: Request): Principal => {
      const tenant = request.headers.get('x-tenant');
      const subject = request.headers.get('x-user');
      if (!tenant || !subject) throw new UnauthorizedError('who?');
      return { tenant, subject };
    };
    const scopes = {
      definitions: [project, assignedTo],
      membership: [taskScopes],
      rules: {
        project: (principal: Principal, { projectId }: { projectId: string }) =>
          projects.get(`${principal.tenant}/${principal.subject}`)?.has(projectId) === true,
        assignedTo: async (principal: Principal, { userId }: { userId: string }) =>
          principal.subject === userId,
        tenant: (principal: Principal) => admins.has(principal.subject),
      },
    };
    const common = {
      database,
      authenticate,
      aggregates: [Task, Todo],
      scopes,
      heartbeatMs: 100,
      pollIntervalMs: 50,
      onError: () => undefined,
    };
    app = createSyncApp({ ...common, authority: { Task: 'events', Todo: 'events' } });
    deciding = createSyncApp({ ...common, authority: { Todo: 'events' } });
    verifying = createSyncApp({ ...common, authority: { Task: 'verify', Todo: 'events' } });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await deciding?.close();
    await verifying?.close();
    await closeDatabase?.();
  });

  let tenants = 0;
  const newTenant = () => `scoped-${tenants++}`;
  const grant = (tenant: string, user: string, ...ids: string[]) =>
    projects.set(`${tenant}/${user}`, new Set(ids));

  async function call(
    tenant: string,
    user: string,
    method: string,
    path: string,
    body?: unknown,
    on: SyncApp = app,
  ) {
    const response = await on.request(path, {
      method,
      headers: { 'x-tenant': tenant, 'x-user': user, 'content-type': 'application/json' },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      body: (text === '' ? {} : JSON.parse(text)) as Answer,
    };
  }
  const pull = (tenant: string, user: string, body: unknown) =>
    call(tenant, user, 'POST', '/v2/pull', body);

  const taskEvent = (taskId: string, version: number, type: string, data: unknown) => ({
    id: newKsuid(),
    type,
    schemaVersion: 1,
    aggregateType: 'Task',
    aggregateId: taskId,
    version,
    occurredAt: AN_HOUR_AGO,
    data,
    metadata: {},
  });
  const created = (taskId: string, projectId: string, assignee: string) =>
    taskEvent(taskId, 1, 'TaskCreated', { projectId, title: `task ${taskId}`, assignee });
  /** One v1 commit of `events`; answers its result. */
  async function push(tenant: string, user: string, ...events: unknown[]) {
    const answer = await call(tenant, user, 'POST', '/v1/push', {
      clientId: 'device',
      commits: [{ commitId: newKsuid(), events }],
    });
    expect(answer.status).toBe(200);
    return answer.body.results[0] as Answer;
  }
  /** Seeds as the admin: t1 (p1, ann), t2 (p2, bob), t3 (p1, bob, renamed). */
  async function seed(tenant: string) {
    for (const [id, projectId, assignee] of [
      ['t1', 'p1', 'ann'],
      ['t2', 'p2', 'bob'],
      ['t3', 'p1', 'bob'],
    ] as const) {
      expect((await push(tenant, 'root', created(id, projectId, assignee))).status).toBe(
        'accepted',
      );
    }
    await push(tenant, 'root', taskEvent('t3', 2, 'TaskRenamed', { title: 'renamed' }));
  }

  const storedEvents = async (tenant: string) =>
    (
      await database.query<{ aggregate_id: string; version: number; type: string }>(
        `SELECT aggregate_id, version, type FROM strata_events WHERE tenant = $1
         ORDER BY tenant_position`,
        [tenant],
      )
    ).rows.map((row) => `${row.aggregate_id} v${row.version} ${row.type}`);
  const scopeRows = async (tenant: string) =>
    (
      await database.query<{ scope: string; eff: string; pos: string; kind: string; id: string }>(
        `SELECT scope, eff, tenant_position AS pos, kind, aggregate_id AS id
         FROM strata_scope_rows WHERE tenant = $1 ORDER BY scope, eff, tenant_position`,
        [tenant],
      )
    ).rows.map((row) => `${row.scope} ${row.eff}.${row.pos} ${row.kind} ${row.id}`);
  const membershipOf = async (tenant: string, id: string) =>
    (
      await database.query<{ scopes: string[] }>(
        `SELECT scopes FROM strata_scope_memberships
         WHERE tenant = $1 AND aggregate_type = 'Task' AND aggregate_id = $2`,
        [tenant, id],
      )
    ).rows[0]?.scopes.sort();

  const short = (item: Answer) =>
    item.kind === 'event'
      ? `${item.event.aggregateId} v${item.event.version} [${item.scopes.join(' ')}]`
      : item.kind === 'left'
        ? `left ${item.aggregateId} ${item.scope}`
        : item.kind;

  /** Opens `GET /v2/subscribe?query`, or with `body` `POST /v2/subscribe`. */
  async function subscribe(
    tenant: string,
    user: string,
    query: string,
    lastEventId?: string,
    body?: unknown,
  ) {
    const controller = new AbortController();
    const headers = {
      'x-tenant': tenant,
      'x-user': user,
      ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
    };
    const response =
      body === undefined
        ? await app.request(`/v2/subscribe?${query}`, { headers, signal: controller.signal })
        : await app.request('/v2/subscribe', {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            body: JSON.stringify(body),
            signal: controller.signal,
          });
    expect(response.status).toBe(200);
    const messages = readServerSentEvents(response.body as ReadableStream<Uint8Array>);
    const seen: Message[] = [];
    let ended = false;
    return {
      seen,
      async next(until: (messages: Message[]) => boolean): Promise<Message[]> {
        while (!until(seen)) {
          const { value, done } = await messages.next();
          if (done) {
            ended = true;
            throw new Error(`stream ended after ${JSON.stringify(seen.map((m) => m.kind))}`);
          }
          seen.push({
            ...ScopedSubscriptionMessageSchema.parse(JSON.parse(value.data)),
            ...(value.id ? { sseId: value.id } : {}),
          });
        }
        return seen;
      },
      /** Reads to the end of the stream. */
      async rest(): Promise<Message[]> {
        for (;;) {
          const { value, done } = await messages.next();
          if (done) return seen;
          seen.push(ScopedSubscriptionMessageSchema.parse(JSON.parse(value.data)));
        }
      },
      get ended() {
        return ended;
      },
      close() {
        controller.abort();
        void messages.return(undefined);
      },
    };
  }
  const itemsOf = (messages: readonly Message[]) =>
    messages.filter((m) => m.kind === 'event' || m.kind === 'left').map((m) => short(m));
  const query = (...keys: string[]) =>
    keys.map((key) => `scope=${encodeURIComponent(key)}`).join('&');

  describe(`scoped sync (${label})`, () => {
    describe('POST /v2/pull', () => {
      it('answers the scopes’ aggregates, one item per event listing the request’s scopes it is in', async () => {
        const tenant = newTenant();
        await seed(tenant);
        grant(tenant, 'ann', 'p1');
        const answer = await pull(tenant, 'ann', { scopes: [{ scope: P1 }, { scope: ANN }] });
        expect(answer.status).toBe(200);
        expect(answer.body.items.map(short)).toEqual([
          `t1 v1 [${P1} ${ANN}]`,
          `t3 v1 [${P1}]`,
          `t3 v2 [${P1}]`,
        ]);
        expect(answer.body.hasMore).toBe(false);
        // Caught up: both scopes share one cursor, the tenant's end.
        expect(answer.body.cursors).toEqual({ [P1]: 's4.4', [ANN]: 's4.4' });
        const again = await pull(tenant, 'ann', {
          scopes: [
            { scope: P1, after: 's4.4' },
            { scope: ANN, after: 's4.4' },
          ],
        });
        expect(again.body.items).toEqual([]);
      });

      it('pages with a shared cursor and no gap or repeat', async () => {
        const tenant = newTenant();
        await seed(tenant);
        grant(tenant, 'ann', 'p1', 'p2');
        const seen: string[] = [];
        let cursors: Record<string, string> = {};
        for (let pages = 0; pages < 10; pages++) {
          const answer = await pull(tenant, 'ann', {
            scopes: [P1, P2].map((scope) =>
              cursors[scope] === undefined ? { scope } : { scope, after: cursors[scope] },
            ),
            limit: 1,
          });
          seen.push(...answer.body.items.map(short));
          cursors = answer.body.cursors;
          if (!answer.body.hasMore) break;
        }
        expect(seen).toEqual([`t1 v1 [${P1}]`, `t2 v1 [${P2}]`, `t3 v1 [${P1}]`, `t3 v2 [${P1}]`]);
      });

      it.each([
        ['a forged, non-canonical key', [{ scope: 'project:{ "projectId": "p1"}' }]],
        ['an unknown scope name', [{ scope: scopeKey('team', { teamId: 'x' }) }]],
        ['params its schema refuses', [{ scope: scopeKey('project', { projectId: '' }) }]],
        ['an extra param', [{ scope: scopeKey('project', { projectId: 'p1', admin: true }) }]],
        ['tenant with params', [{ scope: scopeKey('tenant', { all: 1 }) }]],
        ['a key with a NUL', [{ scope: `project:{"projectId":"p\u00001"}` }]],
        ['a key with a lone surrogate', [{ scope: 'project:{"projectId":"\uD800"}' }]],
        ['a scope twice', [{ scope: P1 }, { scope: P1 }]],
        ['a cursor that is no cursor', [{ scope: P1, after: 'x' }]],
        ['no scope at all', []],
      ])('refuses %s with 400 VALIDATION_FAILED and reads nothing', async (_label, scopes) => {
        const tenant = newTenant();
        await seed(tenant);
        grant(tenant, 'ann', 'p1');
        const before = statements.length;
        const answer = await pull(tenant, 'ann', { scopes });
        expect(answer.status).toBe(400);
        expect(answer.type).toContain('application/problem+json');
        expect(['VALIDATION_FAILED', 'INVALID_CURSOR']).toContain(answer.body.code);
        expect(statements.slice(before).filter(readsData)).toEqual([]);
      });

      it('refuses bad bytes: invalid JSON, unknown fields, a huge limit', async () => {
        const tenant = newTenant();
        for (const body of [
          '{"scopes": [',
          '\u0000',
          { scopes: [{ scope: P1 }], extra: 1 },
          { scopes: [{ scope: P1, cursor: 's0.0' }] },
          { scopes: [{ scope: P1 }], limit: 1e9 },
        ]) {
          const answer = await pull(tenant, 'ann', body);
          expect(answer.status).toBe(400);
          expect(answer.body.code).toBe('VALIDATION_FAILED');
        }
      });

      it('refuses a scope the principal may not hold: 403 with every refused key, nothing read', async () => {
        const tenant = newTenant();
        await seed(tenant);
        grant(tenant, 'ann', 'p1');
        const before = statements.length;
        const answer = await pull(tenant, 'ann', {
          scopes: [{ scope: P1 }, { scope: P2 }, { scope: BOB }, { scope: 'tenant' }],
        });
        expect(answer.status).toBe(403);
        expect(answer.type).toContain('application/problem+json');
        expect(answer.body).toMatchObject({ code: 'FORBIDDEN', scopes: [P2, BOB, 'tenant'] });
        expect(statements.slice(before).filter(readsData)).toEqual([]);
      });

      it('never answers another tenant’s rows for the same scope key', async () => {
        const theirs = newTenant();
        await seed(theirs);
        const mine = newTenant();
        grant(mine, 'ann', 'p1');
        grant(theirs, 'ann', 'p1');
        const answer = await pull(mine, 'ann', { scopes: [{ scope: P1 }, { scope: ANN }] });
        expect(answer.status).toBe(200);
        expect(answer.body.items).toEqual([]);
        expect(answer.body.cursors).toEqual({ [P1]: 's0.0', [ANN]: 's0.0' });
        // A cursor from the other tenant's log lies past this one's end.
        const forged = await pull(mine, 'ann', { scopes: [{ scope: P1, after: 's4.4' }] });
        expect(forged.status).toBe(400);
        expect(forged.body.code).toBe('INVALID_CURSOR');
      });

      it('grants tenant by its rule only: the admin reads the whole tenant as a scope and over v1', async () => {
        const tenant = newTenant();
        await seed(tenant);
        const whole = await pull(tenant, 'root', { scopes: [{ scope: 'tenant' }] });
        expect(whole.status).toBe(200);
        expect(whole.body.items.map(short)).toEqual([
          't1 v1 [tenant]',
          't2 v1 [tenant]',
          't3 v1 [tenant]',
          't3 v2 [tenant]',
        ]);
        expect((await call(tenant, 'root', 'GET', '/v1/pull')).body.events).toHaveLength(4);
      });
    });

    describe('v1 reads of the whole tenant, once scopes are declared', () => {
      it('refuses v1 pull, subscribe and consumer groups without rules.tenant (403, scopes: [tenant])', async () => {
        const tenant = newTenant();
        await seed(tenant);
        grant(tenant, 'ann', 'p1');
        for (const path of ['/v1/pull', '/v1/subscribe', '/v1/groups']) {
          const answer = await call(tenant, 'ann', 'GET', path);
          expect(answer.status, path).toBe(403);
          expect(answer.body).toMatchObject({ code: 'FORBIDDEN', scopes: ['tenant'] });
        }
      });

      it('answers one aggregate’s history only to holders of one of its scopes (else 404)', async () => {
        const tenant = newTenant();
        await seed(tenant);
        grant(tenant, 'ann', 'p1');
        expect((await call(tenant, 'ann', 'GET', '/v1/streams/Task/t3/events')).status).toBe(200);
        for (const path of ['/v1/streams/Task/t2', '/v1/streams/Task/t2/events']) {
          const answer = await call(tenant, 'ann', 'GET', path);
          expect(answer.status, path).toBe(404);
        }
        const forget = await call(tenant, 'ann', 'DELETE', '/v1/streams/Task/t2/key');
        expect(forget.status).toBe(404);
        expect((await call(tenant, 'root', 'GET', '/v1/streams/Task/t2')).status).toBe(200);
      });
    });

    describe('writes outside the writer’s scopes', () => {
      it('v1: a new aggregate needs a scope it joins that the writer may hold; nothing stored otherwise', async () => {
        const tenant = newTenant();
        grant(tenant, 'ann', 'p1');
        const refused = await push(tenant, 'ann', created('x1', 'p2', 'bob'));
        expect(refused).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });
        expect(await storedEvents(tenant)).toEqual([]);
        expect(await scopeRows(tenant)).toEqual([]);
        expect(await membershipOf(tenant, 'x1')).toBeUndefined();
        // Joining assignedTo(ann) is enough, and so is joining p1.
        expect((await push(tenant, 'ann', created('x2', 'p2', 'ann'))).status).toBe('accepted');
        expect((await push(tenant, 'ann', created('x3', 'p1', 'bob'))).status).toBe('accepted');
        expect(await storedEvents(tenant)).toEqual(['x2 v1 TaskCreated', 'x3 v1 TaskCreated']);
        expect(await membershipOf(tenant, 'x2')).toEqual([ANN, P2].sort());
      });

      it('v1: an existing aggregate needs one of its current scopes; a move out is allowed, a write after it is not', async () => {
        const tenant = newTenant();
        await seed(tenant);
        grant(tenant, 'ann', 'p1');
        const before = await storedEvents(tenant);
        const rename = taskEvent('t2', 2, 'TaskRenamed', { title: 'mine now' });
        expect(await push(tenant, 'ann', rename)).toMatchObject({
          status: 'rejected',
          code: 'FORBIDDEN',
        });
        // Reassigning bob's task in p2 to herself would make it hers: refused all the same.
        const grab = taskEvent('t2', 2, 'TaskReassigned', { assignee: 'ann' });
        expect((await push(tenant, 'ann', grab)).code).toBe('FORBIDDEN');
        expect(await storedEvents(tenant)).toEqual(before);
        expect(await membershipOf(tenant, 't2')).toEqual([BOB, P2].sort());

        // t3 is in p1: ann moves it to p2; it leaves p1 (a left row) and she cannot follow it.
        const move = taskEvent('t3', 3, 'TaskMoved', { projectId: 'p2' });
        expect((await push(tenant, 'ann', move)).status).toBe('accepted');
        expect(await membershipOf(tenant, 't3')).toEqual([BOB, P2].sort());
        expect(await scopeRows(tenant)).toContain(`${P1} 5.5 left t3`);
        const after = taskEvent('t3', 4, 'TaskRenamed', { title: 'back?' });
        expect((await push(tenant, 'ann', after)).code).toBe('FORBIDDEN');
        expect((await storedEvents(tenant)).at(-1)).toBe('t3 v3 TaskMoved');
      });

      it('v1: a type without membership is written by holders of tenant only', async () => {
        const tenant = newTenant();
        grant(tenant, 'ann', 'p1');
        const todo = {
          ...taskEvent('todo-1', 1, 'TodoAdded', { title: 'x' }),
          aggregateType: 'Todo',
          schemaVersion: 2,
        };
        expect((await push(tenant, 'ann', todo)).code).toBe('FORBIDDEN');
        expect(await storedEvents(tenant)).toEqual([]);
        expect((await push(tenant, 'root', { ...todo, id: newKsuid() })).status).toBe('accepted');
      });

      it('v2 decide and app.execute: the server’s events are checked as the commander’s, nothing stored or logged', async () => {
        const tenant = newTenant();
        grant(tenant, 'ann', 'p1');
        grant(tenant, 'bob', 'p2');
        const command = (id: string, projectId: string, assignee: string) => ({
          commitId: newKsuid(),
          command: {
            aggregateType: 'Task',
            aggregateId: id,
            name: 'create',
            input: { projectId, title: `task ${id}`, assignee },
            issuedAt: AN_HOUR_AGO,
          },
          events: [],
        });
        // Both at once: each decision is checked as its own user (one handler per tenant).
        const [annPush, bobPush] = await Promise.all(
          (
            [
              ['ann', command('d1', 'p2', 'bob')],
              ['bob', command('d2', 'p2', 'bob')],
            ] as const
          ).map(([user, commit]) =>
            call(
              tenant,
              user,
              'POST',
              '/v2/push',
              { protocol: 2, clientId: 'device', commits: [commit] },
              deciding,
            ),
          ),
        );
        expect(annPush?.body.results[0]).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });
        expect(bobPush?.body.results[0]).toMatchObject({ status: 'accepted' });
        await expect(
          deciding.execute(
            { tenant, subject: 'ann' },
            {
              commandId: newKsuid(),
              aggregateType: 'Task',
              aggregateId: 'd3',
              name: 'create',
              input: { projectId: 'p2', title: 'no', assignee: 'bob' },
            },
          ),
        ).rejects.toMatchObject({ code: 'FORBIDDEN' });
        expect(await storedEvents(tenant)).toEqual(['d2 v1 TaskCreated']);
        const logged = await database.query<{ n: string | number }>(
          'SELECT count(*) AS n FROM strata_commands WHERE tenant = $1',
          [tenant],
        );
        expect(Number(logged.rows[0]?.n)).toBe(1);
        // Ann renaming bob's task through the server is refused as well.
        const rename = {
          ...command('d2', 'p2', 'bob'),
          command: {
            aggregateType: 'Task',
            aggregateId: 'd2',
            name: 'rename',
            input: { title: 'ann was here' },
            issuedAt: AN_HOUR_AGO,
          },
        };
        const answer = await call(
          tenant,
          'ann',
          'POST',
          '/v2/push',
          { protocol: 2, clientId: 'device', commits: [rename] },
          deciding,
        );
        expect(answer.body.results[0]).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });
        expect(await storedEvents(tenant)).toEqual(['d2 v1 TaskCreated']);
      });

      it('v2 verify: a verified prediction outside the writer’s scopes is refused, nothing stored', async () => {
        const tenant = newTenant();
        grant(tenant, 'ann', 'p1');
        const commit = (id: string, projectId: string) => {
          const input = { projectId, title: `task ${id}`, assignee: 'bob' };
          return {
            commitId: newKsuid(),
            command: {
              aggregateType: 'Task',
              aggregateId: id,
              name: 'create',
              input,
              issuedAt: AN_HOUR_AGO,
            },
            events: [taskEvent(id, 1, 'TaskCreated', input)],
          };
        };
        const pushAs = (body: unknown) =>
          call(
            tenant,
            'ann',
            'POST',
            '/v2/push',
            { protocol: 2, clientId: 'device', commits: [body] },
            verifying,
          );
        const refused = await pushAs(commit('v1', 'p2'));
        expect(refused.body.results[0]).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });
        expect((await pushAs(commit('v2', 'p1'))).body.results[0].status).toBe('accepted');
        expect(await storedEvents(tenant)).toEqual(['v2 v1 TaskCreated']);
      });

      it('v2 decide: a second user’s re-push of her own command is answered, the log naming her', async () => {
        const tenant = newTenant();
        grant(tenant, 'ann', 'p1');
        grant(tenant, 'bob', 'p1');
        const commit = (id: string) => ({
          commitId: newKsuid(),
          command: {
            aggregateType: 'Task',
            aggregateId: id,
            name: 'create',
            input: { projectId: 'p1', title: `task ${id}`, assignee: 'bob' },
            issuedAt: AN_HOUR_AGO,
          },
          events: [],
        });
        const pushAs = (user: string, body: unknown) =>
          call(
            tenant,
            user,
            'POST',
            '/v2/push',
            { protocol: 2, clientId: 'device', commits: [body] },
            deciding,
          );
        // Bob's command makes the tenant's command handler; ann's comes after.
        expect((await pushAs('bob', commit('e1'))).body.results[0].status).toBe('accepted');
        const mine = commit('e2');
        const first = await pushAs('ann', mine);
        const again = await pushAs('ann', mine);
        expect(again.body.results[0]).toMatchObject({ status: 'accepted' });
        expect(again.body.results[0].events).toEqual(first.body.results[0].events);
        // The answer names the task's scopes that ann may hold (p1, not bob's): a device
        // holding none of them drops what it wrote.
        expect(first.body.results[0].scopes).toEqual([P1]);
        const logged = await database.query<{ user_id: string }>(
          'SELECT user_id FROM strata_commands WHERE tenant = $1 AND command_id = $2',
          [tenant, mine.commitId],
        );
        expect(logged.rows).toEqual([{ user_id: 'ann' }]);
      });

      it('v2: a push’s answers name each aggregate’s held scopes after the push, read in one statement', async () => {
        const tenant = newTenant();
        grant(tenant, 'ann', 'p1', 'p2');
        const command = (id: string, name: string, input: object) => ({
          commitId: newKsuid(),
          command: { aggregateType: 'Task', aggregateId: id, name, input, issuedAt: AN_HOUR_AGO },
          events: [],
        });
        const before = statements.length;
        const answer = await call(
          tenant,
          'ann',
          'POST',
          '/v2/push',
          {
            protocol: 2,
            clientId: 'device',
            commits: [
              command('s1', 'create', { projectId: 'p1', title: 'mine', assignee: 'ann' }),
              command('s2', 'create', { projectId: 'p2', title: 'bob’s', assignee: 'bob' }),
              command('s1', 'move', { projectId: 'p2' }),
            ],
          },
          deciding,
        );
        const results = answer.body.results as Answer[];
        expect(results.map((result) => result.status)).toEqual([
          'accepted',
          'accepted',
          'accepted',
        ]);
        // s1 moved to p2 within the push: both its answers say where it is now; s2's names p2
        // only (bob's assignee scope is not ann's to know).
        expect(results.map((result) => [...result.scopes].sort())).toEqual([
          [ANN, P2].sort(),
          [P2],
          [ANN, P2].sort(),
        ]);
        const answerReads = statements
          .slice(before)
          .filter(
            (text) => text.includes('FROM strata_scope_memberships') && text.includes('unnest'),
          );
        expect(answerReads).toHaveLength(1);
        const stored = await database.query<{ aggregate_id: string; scopes: string[] }>(
          `SELECT aggregate_id, scopes FROM strata_scope_memberships
           WHERE tenant = $1 ORDER BY aggregate_id`,
          [tenant],
        );
        expect(stored.rows.map((row) => [row.aggregate_id, [...row.scopes].sort()])).toEqual([
          ['s1', [ANN, P2].sort()],
          ['s2', [BOB, P2].sort()],
        ]);
      });
    });

    describe('GET /v2/subscribe', () => {
      it('catches up, then streams live only what touches its scopes: events, joins with history, lefts', async () => {
        const tenant = newTenant();
        await seed(tenant);
        grant(tenant, 'ann', 'p1');
        const stream = await subscribe(tenant, 'ann', query(P1, ANN));
        await stream.next((seen) => seen.some((m) => m.kind === 'caught-up'));
        expect(itemsOf(stream.seen)).toEqual([
          `t1 v1 [${P1} ${ANN}]`,
          `t3 v1 [${P1}]`,
          `t3 v2 [${P1}]`,
        ]);
        // Bob's task in p2 (untouched), then reassigned to ann: it joins with its history.
        await push(tenant, 'root', taskEvent('t2', 2, 'TaskRenamed', { title: 'b' }));
        await push(tenant, 'root', taskEvent('t2', 3, 'TaskReassigned', { assignee: 'ann' }));
        // t1 moves out of p1 (still ann's), t3 moves out of both.
        await push(tenant, 'root', taskEvent('t3', 3, 'TaskMoved', { projectId: 'p2' }));
        await stream.next((seen) => itemsOf(seen).length >= 7);
        expect(itemsOf(stream.seen).slice(3)).toEqual([
          `t2 v1 [${ANN}]`,
          `t2 v2 [${ANN}]`,
          `t2 v3 [${ANN}]`,
          `left t3 ${P1}`,
        ]);
        // The same as a pull from the start: no gap, no repeat.
        const pulled = await pull(tenant, 'ann', { scopes: [{ scope: P1 }, { scope: ANN }] });
        expect(itemsOf(stream.seen)).toEqual(pulled.body.items.map(short));
        // The last item of a position carries the SSE id, equal to its cursor.
        const items = stream.seen.filter((m) => m.kind === 'event' || m.kind === 'left');
        for (const [index, item] of items.entries()) {
          const last = items[index + 1]?.cursor !== item.cursor;
          expect(item.sseId).toBe(last ? item.cursor : undefined);
        }
        stream.close();
      });

      it('resumes after Last-Event-ID without repeating or skipping', async () => {
        const tenant = newTenant();
        await seed(tenant);
        grant(tenant, 'ann', 'p1');
        const first = await subscribe(tenant, 'ann', query(P1));
        const seen = await first.next((m) => itemsOf(m).length === 2);
        first.close();
        const resumed = await subscribe(tenant, 'ann', query(P1), seen[1]?.sseId);
        await resumed.next((m) => m.some((x) => x.kind === 'caught-up'));
        expect(itemsOf(resumed.seen)).toEqual([`t3 v2 [${P1}]`]);
        resumed.close();
      });

      it('asks the database nothing per subscriber for events outside its scopes', async () => {
        const tenant = newTenant();
        await seed(tenant);
        grant(tenant, 'ann', 'p1');
        const stream = await subscribe(tenant, 'ann', query(P1));
        await stream.next((seen) => seen.some((m) => m.kind === 'caught-up'));
        const reads = () => statements.filter(isScopeRead).length;
        const before = reads();
        for (let n = 0; n < 10; n++) await push(tenant, 'root', created(`o${n}`, 'p2', 'bob'));
        // A marker in its scope: once it arrives, the feed has delivered everything before it.
        await push(tenant, 'root', created('mark', 'p1', 'bob'));
        await stream.next((seen) => itemsOf(seen).includes(`mark v1 [${P1}]`));
        expect(reads() - before).toBeLessThanOrEqual(1);
        expect(itemsOf(stream.seen).slice(3)).toEqual([`mark v1 [${P1}]`]);
        stream.close();
      });

      it('ends with closing: access-changed when a rule is revoked, and the reconnect is a 403 naming it', async () => {
        const tenant = newTenant();
        await seed(tenant);
        grant(tenant, 'ann', 'p1');
        const stream = await subscribe(tenant, 'ann', query(P1, ANN));
        await stream.next((seen) => seen.some((m) => m.kind === 'caught-up'));
        grant(tenant, 'ann'); // no projects any more
        const rest = await stream.rest();
        expect(rest.at(-1)).toEqual({
          kind: 'closing',
          reason: 'access-changed',
          resumeAfter: 's4.4',
        });
        const again = await call(tenant, 'ann', 'GET', `/v2/subscribe?${query(P1, ANN)}`);
        expect(again.status).toBe(403);
        expect(again.body).toMatchObject({ code: 'FORBIDDEN', scopes: [P1] });
      });

      it.each([
        ['a forged key', 'scope=project%3A%7B%22projectId%22%3A%20%22p1%22%7D'],
        ['an unknown scope', query(scopeKey('team', { teamId: 'x' }))],
        ['params its schema refuses', query(scopeKey('project', { projectId: '' }))],
        ['a scope twice', query(P1, P1)],
        ['no scope', ''],
        ['two cursors', `${query(P1)}&after=s0.0&after=s1.1`],
        ['an unknown parameter', `${query(P1)}&from=now`],
        ['a bad cursor', `${query(P1)}&after=t5`],
        ['bytes that are no UTF-8', 'scope=%FF%FE'],
        ['a NUL in a key', 'scope=project%3A%7B%22projectId%22%3A%22p%001%22%7D'],
        ['a lone surrogate in a key', 'scope=project%3A%7B%22projectId%22%3A%22%5CuD800%22%7D'],
      ])('refuses %s with 400 before any stream, reading nothing', async (_label, q) => {
        const tenant = newTenant();
        await seed(tenant);
        grant(tenant, 'ann', 'p1');
        const before = statements.length;
        const answer = await call(tenant, 'ann', 'GET', `/v2/subscribe?${q}`);
        expect(answer.status).toBe(400);
        expect(['VALIDATION_FAILED', 'INVALID_CURSOR']).toContain(answer.body.code);
        if (answer.body.code === 'VALIDATION_FAILED') {
          expect(statements.slice(before).filter(readsData)).toEqual([]);
        }
      });

      it('refuses scopes the principal may not hold with 403 and scopes, nothing read; a past-the-end Last-Event-ID is 400', async () => {
        const tenant = newTenant();
        await seed(tenant);
        grant(tenant, 'ann', 'p1');
        const before = statements.length;
        const answer = await call(tenant, 'ann', 'GET', `/v2/subscribe?${query(P1, P2, 'tenant')}`);
        expect(answer.status).toBe(403);
        expect(answer.body).toMatchObject({ code: 'FORBIDDEN', scopes: [P2, 'tenant'] });
        expect(statements.slice(before).filter(readsData)).toEqual([]);
        const response = await app.request(`/v2/subscribe?${query(P1)}`, {
          headers: { 'x-tenant': tenant, 'x-user': 'ann', 'last-event-id': 's99.99' },
        });
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({ code: 'INVALID_CURSOR' });
      });
    });

    describe('POST /v2/subscribe', () => {
      it('serves scopes named in the body, for sets too long for a URL, as GET serves its query', async () => {
        const tenant = newTenant();
        await seed(tenant);
        const long = Array.from({ length: 40 }, (_, n) => `${n}-${'x'.repeat(400)}`);
        grant(tenant, 'ann', 'p1', ...long);
        const keys = [P1, ...long.map((projectId) => project({ projectId }).key)];
        // Past what Node accepts of a request line and headers (16 KB): GET could not carry it.
        expect(query(...keys).length).toBeGreaterThan(16_384);
        const stream = await subscribe(tenant, 'ann', '', undefined, { scopes: keys });
        try {
          await stream.next((seen) => seen.some((m) => m.kind === 'caught-up'));
          expect(itemsOf(stream.seen)).toEqual([`t1 v1 [${P1}]`, `t3 v1 [${P1}]`, `t3 v2 [${P1}]`]);
          await push(tenant, 'root', taskEvent('t1', 2, 'TaskRenamed', { title: 'live' }));
          await stream.next((seen) => itemsOf(seen).length >= 4);
          expect(itemsOf(stream.seen)[3]).toBe(`t1 v2 [${P1}]`);
        } finally {
          stream.close();
        }
      });

      it('refuses bad bodies with 400 and scopes the principal may not hold with 403, nothing read', async () => {
        const tenant = newTenant();
        await seed(tenant);
        grant(tenant, 'ann', 'p1');
        const before = statements.length;
        for (const body of [
          'not json',
          {},
          { scopes: [] },
          { scopes: [P1, P1] },
          { scopes: [P1], extra: 1 },
          { scopes: ['not a key!'] },
          { scopes: [P1], after: 42 },
        ]) {
          const answer = await call(tenant, 'ann', 'POST', '/v2/subscribe', body);
          expect(answer.status, JSON.stringify(body)).toBe(400);
          expect(answer.type).toContain('application/problem+json');
          expect(answer.body.code).toBe('VALIDATION_FAILED');
        }
        const refused = await call(tenant, 'ann', 'POST', '/v2/subscribe', {
          scopes: [P1, P2, 'tenant'],
        });
        expect(refused.status).toBe(403);
        expect(refused.body).toMatchObject({ code: 'FORBIDDEN', scopes: [P2, 'tenant'] });
        expect(statements.slice(before).filter(readsData)).toEqual([]);
      });
    });
  });
}
