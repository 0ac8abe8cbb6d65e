// `POST /v2/pull` with snapshot bootstrap, over HTTP: `bootstrap` and `snapshots` reach the
// read, bad ones are refused before anything is read, and an app with `authorize.canRead`
// never answers a snapshot (its state would fold in events the rule hides). On real Postgres
// through the Neon driver and on PGlite (the embedded default).
import { type ScopedItem, ScopedPullResponseSchema, type StoredEvent } from '@strata/core';
import { assignedTo, project, taskScopes } from '@strata/example-todo';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  created,
  projectKey,
  renamed,
  scopedTaskStore,
} from '../../test/fixtures/scopes/scoped-tasks.ts';
import { taskScopesApp } from '../../test/fixtures/scopes/task-scopes-app.ts';
import { neonSuiteDatabase, pgliteSuiteDatabase } from '../../test/suites/suite-databases.ts';
import { migrate } from '../migrations/migrations.ts';
import { saveSnapshotRow } from '../postgres/snapshot-rows.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';
import { scopeAccess } from '../scopes/scope-rules.ts';
import type { ScopeFeed } from '../subscriptions/scope-feed.ts';
import { createSseResponder } from '../subscriptions/subscription-response.ts';
import type { SyncApp } from './create-sync-app.ts';
import { DEFAULT_LIMITS } from './limits.ts';
import { problemResponse } from './problem-response.ts';
import { scopedSyncRoutes } from './scoped-sync-routes.ts';
import type { SyncEnv } from './sync-env.ts';

const TENANT = 'acme';
const P1 = projectKey('p1');
const TAKEN = '2024-05-01T10:00:00.000Z';
const everyone = { project: () => true, assignedTo: () => true };

/** An item of an answer, short: `s4.4 snapshot a v3 [scopes]`, `s4.4 event a v3 [scopes]`. */
function short(item: ScopedItem): string {
  if (item.kind === 'left') return `${item.cursor} left ${item.aggregateId} ${item.scope}`;
  const [id, version] =
    item.kind === 'event'
      ? [item.event.aggregateId, item.event.version]
      : [item.aggregateId, item.version];
  return `${item.cursor} ${item.kind} ${id} v${version} ${item.scopes.join(' ')}`;
}

describe.each([
  ['Postgres through the Neon driver', neonSuiteDatabase],
  ['PGlite', pgliteSuiteDatabase],
])('POST /v2/pull with snapshots (%s)', (_label, open) => {
  let db: SqlDatabase;
  let close: () => Promise<void>;
  /** The routes as an app without `authorize.canRead` mounts them. */
  let routes: Hono<SyncEnv>;
  /** An app with no canRead, and one whose canRead hides b's events. */
  let plainApp: SyncApp;
  let guarded: SyncApp;
  let before: unknown;

  /** Every row a pull could touch. */
  const contents = async () =>
    (
      await db.query(
        `SELECT
           (SELECT json_agg(e.id ORDER BY tenant_position) FROM strata_events e) AS events,
           (SELECT count(*)::int FROM strata_scope_rows) AS rows,
           (SELECT json_agg(s ORDER BY aggregate_id) FROM strata_snapshots s) AS snapshots,
           (SELECT json_agg(p ORDER BY tenant) FROM strata_tenant_positions p) AS positions`,
      )
    ).rows[0];

  beforeAll(async () => {
    ({ database: db, close } = await open());
    await migrate(db);
    const { append } = scopedTaskStore(db, TENANT);
    await append('a', created('p1', 'ann')); // 1
    await append('b', created('p1', 'bob')); // 2
    for (const title of ['a2', 'a3', 'a4', 'a5']) await append('a', renamed(title)); // 3..6
    await saveSnapshotRow(db, TENANT, {
      aggregateType: 'Task',
      aggregateId: 'a',
      version: 3,
      state: { title: 'a3', done: false },
      fingerprint: 'f1',
      takenAt: TAKEN,
    });
    before = await contents();

    const scopes = {
      definitions: [project, assignedTo],
      membership: [taskScopes],
      rules: everyone,
    };
    // Pulls subscribe to nothing.
    const scopeFeed: ScopeFeed = { subscribe: () => Promise.reject(new Error('no feed here')) };
    routes = new Hono<SyncEnv>();
    routes.onError((error, c) => problemResponse(error, new URL(c.req.url).pathname));
    routes.use('*', async (c, next) => {
      c.set('principal', { tenant: TENANT, subject: 'ann' });
      await next();
    });
    routes.route(
      '/v2',
      scopedSyncRoutes({
        database: db,
        access: scopeAccess(scopes),
        limits: DEFAULT_LIMITS,
        sse: createSseResponder({ limits: DEFAULT_LIMITS, onError: () => undefined }),
        scopeFeed,
        heartbeatMs: 1000,
      }),
    );
    plainApp = taskScopesApp(db, TENANT, everyone);
    guarded = taskScopesApp(db, TENANT, everyone, {
      authorize: { canRead: (_principal, event: StoredEvent) => event.aggregateId !== 'b' },
    });
  }, 60_000);

  afterAll(async () => {
    await plainApp?.close();
    await guarded?.close();
    await close?.();
  });

  async function pull(body: unknown, on: { request: Hono<SyncEnv>['request'] } = routes) {
    const response = await on.request('/v2/pull', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user': 'ann' },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      body: (await response.json()) as any,
    };
  }

  const WHOLE = [
    `s1.1 event a v1 ${P1}`,
    `s2.2 event b v1 ${P1}`,
    `s3.3 event a v2 ${P1}`,
    `s4.4 event a v3 ${P1}`,
    `s5.5 event a v4 ${P1}`,
    `s6.6 event a v5 ${P1}`,
  ];

  it.each([
    ['the routes', () => routes],
    ['createSyncApp', () => plainApp],
  ])(
    'a bootstrap read answers the snapshot and the events from its version on (%s, no canRead)',
    async (_on, on) => {
      const answer = await pull(
        { scopes: [{ scope: P1, bootstrap: true }], snapshots: { Task: 'f1' } },
        on(),
      );
      expect(answer.status).toBe(200);
      const body = ScopedPullResponseSchema.parse(answer.body);
      expect(body.items.map(short)).toEqual([
        `s2.2 event b v1 ${P1}`,
        `s4.4 snapshot a v3 ${P1}`,
        `s4.4 event a v3 ${P1}`,
        `s5.5 event a v4 ${P1}`,
        `s6.6 event a v5 ${P1}`,
      ]);
      expect(body.items[1]).toEqual({
        kind: 'snapshot',
        cursor: 's4.4',
        scopes: [P1],
        aggregateType: 'Task',
        aggregateId: 'a',
        version: 3,
        state: { title: 'a3', done: false },
        fingerprint: 'f1',
        takenAt: TAKEN,
      });
      expect(body).toMatchObject({ cursors: { [P1]: 's6.6' }, hasMore: false });
    },
  );

  it('a bootstrap read pages like any read', async () => {
    const first = await pull({
      scopes: [{ scope: P1, bootstrap: true }],
      snapshots: { Task: 'f1' },
      limit: 2,
    });
    expect(first.body.items.map(short)).toEqual([
      `s2.2 event b v1 ${P1}`,
      `s4.4 snapshot a v3 ${P1}`,
      `s4.4 event a v3 ${P1}`,
    ]);
    expect(first.body).toMatchObject({ cursors: { [P1]: 's4.4' }, hasMore: true });
  });

  it.each([
    ['without bootstrap', { scopes: [{ scope: P1 }], snapshots: { Task: 'f1' } }],
    ['bootstrap: false', { scopes: [{ scope: P1, bootstrap: false }], snapshots: { Task: 'f1' } }],
    ['without snapshots', { scopes: [{ scope: P1, bootstrap: true }] }],
    [
      'another fingerprint',
      { scopes: [{ scope: P1, bootstrap: true }], snapshots: { Task: 'f0' } },
    ],
  ])('%s: the whole history', async (_name, body) => {
    const answer = await pull(body);
    expect(answer.status).toBe(200);
    expect(ScopedPullResponseSchema.parse(answer.body).items.map(short)).toEqual(WHOLE);
  });

  it('an app with authorize.canRead answers no snapshot: its bootstrap reads are plain reads', async () => {
    const answer = await pull(
      { scopes: [{ scope: P1, bootstrap: true }], snapshots: { Task: 'f1' } },
      guarded,
    );
    expect(answer.status).toBe(200);
    expect(ScopedPullResponseSchema.parse(answer.body).items.map(short)).toEqual(
      WHOLE.filter((item) => !item.includes(' b ')),
    );
  });

  const types = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`Type${i}`, 'f']));
  it.each([
    ['an empty fingerprint', { scopes: [{ scope: P1, bootstrap: true }], snapshots: { T: '' } }],
    ['a fingerprint too long', { scopes: [{ scope: P1 }], snapshots: { T: 'f'.repeat(201) } }],
    ['a bootstrap that is no boolean', { scopes: [{ scope: P1, bootstrap: 'yes' }] }],
    ['more than 100 types', { scopes: [{ scope: P1, bootstrap: true }], snapshots: types }],
    ['snapshots that are no record', { scopes: [{ scope: P1 }], snapshots: ['Task'] }],
  ])('%s: 400 VALIDATION_FAILED', async (_name, body) => {
    for (const on of [routes, guarded]) {
      const answer = await pull(body, on);
      expect(answer).toMatchObject({
        status: 400,
        type: 'application/problem+json',
        body: { code: 'VALIDATION_FAILED' },
      });
    }
  });

  it('pulls leave the database as it was', async () => {
    expect(await contents()).toEqual(before);
  });
});
