// Adversarial review of issue 15 (scoped sync), server side. Each test states the behaviour a
// scoped server should have; the failing ones are findings (see the review report).
import {
  newKsuid,
  readServerSentEvents,
  type ScopedSubscriptionMessage,
  SUBSCRIPTION_FEATURES_HEADER,
  SubscriptionMessageSchema,
  UnauthorizedError,
} from '@strata/core';
import { assignedTo, project, Task, Todo, taskScopes } from '@strata/example-todo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import type { Principal } from '../app/auth.ts';
import { createSyncApp, type SyncApp } from '../app/create-sync-app.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import type { SqlDatabase } from '../postgres/sql-database.ts';

type Answer = Record<string, any>;

const P1 = project({ projectId: 'p1' }).key;
const P2 = project({ projectId: 'p2' }).key;
const BOB = assignedTo({ userId: 'bob' }).key;
const AN_HOUR_AGO = new Date(Date.now() - 3_600_000).toISOString();

const pglite = useMigratedPglite();
let database: SqlDatabase;
let events: SyncApp;
let deciding: SyncApp;
let verifying: SyncApp;
const projects = new Map<string, Set<string>>();
const admins = new Set<string>(['root']);
let throwingRule = false;

beforeAll(() => {
  database = pgliteDatabase(pglite());
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
      project: (principal: Principal, { projectId }: { projectId: string }) => {
        if (throwingRule) throw new Error('rule backend down');
        return projects.get(`${principal.tenant}/${principal.subject}`)?.has(projectId) === true;
      },
      assignedTo: (principal: Principal, { userId }: { userId: string }) =>
        principal.subject === userId,
      tenant: (principal: Principal) => admins.has(principal.subject),
    },
    // Only a project's members put tasks into it (creating or moving them there).
    placement: {
      project: (principal: Principal, { projectId }: { projectId: string }) =>
        projects.get(`${principal.tenant}/${principal.subject}`)?.has(projectId) === true,
    },
  };
  const common = {
    database,
    authenticate,
    aggregates: [Task, Todo],
    scopes,
    heartbeatMs: 50,
    pollIntervalMs: 25,
    onError: () => undefined,
  };
  events = createSyncApp({ ...common, authority: { Task: 'events', Todo: 'events' } });
  deciding = createSyncApp({ ...common, authority: { Todo: 'events' } });
  verifying = createSyncApp({ ...common, authority: { Task: 'verify', Todo: 'events' } });
});
afterAll(async () => {
  await events?.close();
  await deciding?.close();
  await verifying?.close();
});

let tenants = 0;
const newTenant = () => `review-${tenants++}`;
const grant = (tenant: string, user: string, ...ids: string[]) =>
  projects.set(`${tenant}/${user}`, new Set(ids));

async function call(
  app: SyncApp,
  tenant: string,
  user: string,
  method: string,
  path: string,
  body?: unknown,
) {
  const response = await app.request(path, {
    method,
    headers: { 'x-tenant': tenant, 'x-user': user, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    body: (text === '' ? {} : JSON.parse(text)) as Answer,
  };
}

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

async function v1push(tenant: string, user: string, ...pushed: unknown[]) {
  const answer = await call(events, tenant, user, 'POST', '/v1/push', {
    clientId: 'device',
    commits: [{ commitId: newKsuid(), events: pushed }],
  });
  expect(answer.status).toBe(200);
  return answer.body.results[0] as Answer;
}

/** As the admin: bob's secret task `s1` in project p2, title "merger with acme". */
async function seedSecret(tenant: string) {
  const created = taskEvent('s1', 1, 'TaskCreated', {
    projectId: 'p2',
    title: 'merger with acme',
    assignee: 'bob',
  });
  expect((await v1push(tenant, 'root', created)).status).toBe('accepted');
}

const command = (aggregateId: string, name: string, input: unknown) => ({
  commitId: newKsuid(),
  command: { aggregateType: 'Task', aggregateId, name, input, issuedAt: AN_HOUR_AGO },
  events: [],
});
const v2push = (app: SyncApp, tenant: string, user: string, commit: unknown) =>
  call(app, tenant, user, 'POST', '/v2/push', {
    protocol: 2,
    clientId: 'device',
    commits: [commit],
  });

describe('review: the server decides on state the commander may not hold', () => {
  it('v2 push (decide): a no-op command on an aggregate outside the writer’s scopes is FORBIDDEN, not accepted with its scopes', async () => {
    const tenant = newTenant();
    await seedSecret(tenant);
    grant(tenant, 'ann', 'p1'); // ann holds p1 and assignedTo(ann): nothing of s1
    // Guessing the secret title right: the decision is "no events", so no append, no check.
    const right = await v2push(
      deciding,
      tenant,
      'ann',
      command('s1', 'rename', { title: 'merger with acme' }),
    );
    const wrong = await v2push(deciding, tenant, 'ann', command('s1', 'rename', { title: 'x' }));
    // Both answers must look the same to ann: FORBIDDEN, and no scope keys of s1.
    expect(wrong.body.results[0]).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });
    // Today: { status: 'accepted', events: [], scopes: [assignedTo bob, project p2] }.
    expect(right.body.results[0].scopes).toBeUndefined();
    expect(right.body.results[0]).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });
  });

  it('v2 push (decide): the project and assignee of a task outside the writer’s scopes cannot be probed', async () => {
    const tenant = newTenant();
    await seedSecret(tenant);
    grant(tenant, 'ann', 'p1');
    const probe = await v2push(deciding, tenant, 'ann', command('s1', 'move', { projectId: 'p2' }));
    expect(probe.body.results[0]).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });
    // What an accepted answer leaks: the task's scope keys (project p2, assignee bob).
    expect(JSON.stringify(probe.body)).not.toContain(BOB);
  });

  it('POST /v2/commands: a no-op command outside the writer’s scopes is FORBIDDEN, not 200', async () => {
    const tenant = newTenant();
    await seedSecret(tenant);
    grant(tenant, 'ann', 'p1');
    const answer = await call(deciding, tenant, 'ann', 'POST', '/v2/commands', {
      aggregateType: 'Task',
      aggregateId: 's1',
      name: 'reassign',
      input: { assignee: 'bob' },
    });
    expect(answer.status).toBe(403);
    expect(answer.body.code).toBe('FORBIDDEN');
  });

  it('v2 push (verify): an empty prediction on an aggregate outside the writer’s scopes is FORBIDDEN', async () => {
    const tenant = newTenant();
    await seedSecret(tenant);
    grant(tenant, 'ann', 'p1');
    const answer = await v2push(
      verifying,
      tenant,
      'ann',
      command('s1', 'rename', { title: 'merger with acme' }),
    );
    expect(answer.body.results[0]).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });
  });

  it('a command on a task outside the scopes is FORBIDDEN with version 0, whatever it holds', async () => {
    const tenant = newTenant();
    await seedSecret(tenant);
    grant(tenant, 'ann', 'p1');
    const existing = await v2push(deciding, tenant, 'ann', command('s1', 'rename', { title: 'y' }));
    expect(existing.body.results[0]).toMatchObject({
      status: 'rejected',
      code: 'FORBIDDEN',
      currentVersion: 0,
    });
    // A missing id answers its command's own refusal (nothing to hide: ids are KSUIDs in practice).
    const missing = await v2push(
      deciding,
      tenant,
      'ann',
      command('nope', 'rename', { title: 'y' }),
    );
    expect(missing.body.results[0]).toMatchObject({
      status: 'rejected',
      code: 'DOMAIN_RULE_VIOLATED',
    });
  });

  it('v1 push: the version of an aggregate outside the writer’s scopes is not revealed by a conflict', async () => {
    const tenant = newTenant();
    await seedSecret(tenant);
    grant(tenant, 'ann', 'p1');
    const answer = await v1push(
      tenant,
      'ann',
      taskEvent('s1', 7, 'TaskRenamed', { title: 'probing the version' }),
    );
    // Today: VERSION_CONFLICT with currentVersion 1 (s1 exists, at version 1).
    expect(answer).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });
    expect(answer.currentVersion).toBe(0);
  });
});

describe('review: what refusals and cursors tell about aggregates outside the scopes', () => {
  it('a FORBIDDEN v1 commit does not carry the aggregate’s true version', async () => {
    const tenant = newTenant();
    await seedSecret(tenant);
    grant(tenant, 'ann', 'p1');
    const answer = await v1push(tenant, 'ann', taskEvent('s1', 2, 'TaskRenamed', { title: 'z' }));
    expect(answer).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });
    // Today: currentVersion 1, where a missing task answers 0.
    expect(answer.currentVersion).toBe(0);
  });

  it('a caught-up cursor moves with the tenant’s horizon, but a pull from it reads nothing of other scopes', async () => {
    const tenant = newTenant();
    grant(tenant, 'ann', 'p1');
    const pull = async (after?: string) =>
      (
        await call(events, tenant, 'ann', 'POST', '/v2/pull', {
          scopes: [{ scope: P1, ...(after === undefined ? {} : { after }) }],
        })
      ).body;
    const before = await pull();
    await seedSecret(tenant); // one write in p2, which ann may not hold
    // By design caught-up scopes share the tenant's horizon (one subscription follows them all):
    // ann learns that the tenant wrote, never what.
    const after = await pull(before.cursors[P1]);
    expect(after.items).toEqual([]);
    expect(after.hasMore).toBe(false);
  });
});

describe('review: whole-tenant access is checked once, at open', () => {
  it('an open GET /v1/subscribe ends once rules.tenant is revoked (as /v2/subscribe does)', async () => {
    const tenant = newTenant();
    admins.add('carol');
    const controller = new AbortController();
    const response = await events.request('/v1/subscribe', {
      headers: { 'x-tenant': tenant, 'x-user': 'carol' },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const messages = readServerSentEvents(response.body as ReadableStream<Uint8Array>);
    admins.delete('carol'); // revoked
    // Two heartbeats' time for the server to notice; then something secret is written.
    await new Promise((resolve) => setTimeout(resolve, 150));
    await seedSecret(tenant);
    const seen: string[] = [];
    for (;;) {
      const { value, done } = await messages.next();
      if (done) break;
      const message = JSON.parse(value.data) as { kind: string; event?: { aggregateId: string } };
      seen.push(message.kind === 'event' ? `event ${message.event?.aggregateId}` : message.kind);
      if (message.kind === 'event') break;
    }
    controller.abort();
    expect(seen).not.toContain('event s1');
  });

  it('tells a client that understands it closing: access-changed; one that only knows slow-reader closings sees the end', async () => {
    const tenant = newTenant();
    await seedSecret(tenant); // one event to resume after
    admins.add('dave');
    const open = async (features: string) => {
      const controller = new AbortController();
      const response = await events.request('/v1/subscribe', {
        headers: {
          'x-tenant': tenant,
          'x-user': 'dave',
          [SUBSCRIPTION_FEATURES_HEADER]: features,
        },
        signal: controller.signal,
      });
      expect(response.status).toBe(200);
      return readServerSentEvents(response.body as ReadableStream<Uint8Array>);
    };
    const until = async (messages: AsyncIterator<{ data: string }>) => {
      const seen: Answer[] = [];
      for (;;) {
        const { value, done } = await messages.next();
        if (done) return seen;
        const message = JSON.parse(value.data) as Answer;
        seen.push(message);
        // Parsed as this version's clients parse it: no unknown reason.
        expect(SubscriptionMessageSchema.safeParse(message).success).toBe(true);
        if (message.kind === 'caught-up') admins.delete('dave'); // revoked while open
      }
    };
    const knowing = await until(await open('closing, access-changed'));
    expect(knowing.map((message) => message.kind)).toEqual(['event', 'caught-up', 'closing']);
    expect(knowing.at(-1)).toEqual({
      kind: 'closing',
      reason: 'access-changed',
      resumeAfter: knowing[0]?.cursor,
    });
    admins.add('dave');
    const older = await until(await open('closing'));
    expect(older.map((message) => message.kind)).toEqual(['event', 'caught-up']);
    // The reconnect hears why: 403 naming the tenant scope.
    const again = await call(events, tenant, 'dave', 'GET', '/v1/subscribe');
    expect(again.status).toBe(403);
    expect(again.body.scopes).toEqual(['tenant']);
  });
});

describe('review: writes that land in scopes the writer may not hold', () => {
  it('a member of p1 cannot move a task into p2, where she is no member', async () => {
    const tenant = newTenant();
    grant(tenant, 'ann', 'p1');
    const created = taskEvent('m1', 1, 'TaskCreated', {
      projectId: 'p1',
      title: 'spam',
      assignee: 'bob',
    });
    expect((await v1push(tenant, 'ann', created)).status).toBe('accepted');
    const moved = await v1push(tenant, 'ann', taskEvent('m1', 2, 'TaskMoved', { projectId: 'p2' }));
    expect(moved).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });
    const { rows } = await database.query<{ scopes: string[] }>(
      `SELECT scopes FROM strata_scope_memberships WHERE tenant = $1 AND aggregate_id = 'm1'`,
      [tenant],
    );
    expect(rows[0]?.scopes).not.toContain(P2);
    // Reassigning stays open: only bob holds assignedTo(bob), yet ann may hand him the task.
    const handed = await v1push(
      tenant,
      'ann',
      taskEvent('m1', 2, 'TaskReassigned', { assignee: 'ann' }),
    );
    expect(handed.status).toBe('accepted');
    // Created straight into p2 by one commit: refused too, nothing stored.
    const into = await v1push(
      tenant,
      'ann',
      taskEvent('m2', 1, 'TaskCreated', { projectId: 'p2', title: 'spam', assignee: 'ann' }),
    );
    expect(into).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });
    const stored = await database.query(
      `SELECT 1 FROM strata_events WHERE tenant = $1 AND aggregate_id = 'm2'`,
      [tenant],
    );
    expect(stored.rows).toEqual([]);
  });
});

describe('review: robustness of rules', () => {
  it('a rule that throws on POST /v2/pull answers problem+json', async () => {
    const tenant = newTenant();
    throwingRule = true;
    try {
      const answer = await call(events, tenant, 'ann', 'POST', '/v2/pull', {
        scopes: [{ scope: P1 }],
      });
      expect(answer.type).toContain('application/problem+json');
      expect(answer.status).toBeGreaterThanOrEqual(500);
    } finally {
      throwingRule = false;
    }
  });

  it('a rule that throws at the periodic re-check ends the stream with closing: access-changed', async () => {
    const tenant = newTenant();
    grant(tenant, 'ann', 'p1');
    const controller = new AbortController();
    const response = await events.request(`/v2/subscribe?scope=${encodeURIComponent(P1)}`, {
      headers: { 'x-tenant': tenant, 'x-user': 'ann' },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const messages = readServerSentEvents(response.body as ReadableStream<Uint8Array>);
    const seen: ScopedSubscriptionMessage[] = [];
    const first = await messages.next();
    seen.push(JSON.parse((first.value as { data: string }).data));
    throwingRule = true;
    try {
      for (;;) {
        const { value, done } = await messages.next();
        if (done) break;
        seen.push(JSON.parse(value.data));
      }
    } finally {
      throwingRule = false;
      controller.abort();
    }
    // The client must learn why its stream ended (else it reconnects in a loop on a 500).
    expect(seen.at(-1)).toMatchObject({ kind: 'closing' });
  });

  it('a lost database during a scoped pull is 503 problem+json, not a crash', async () => {
    // Separate, closable PGlite for this one.
    const { createMigratedPglite } = await import('@strata/tooling/pglite/test-pglite');
    const own = await createMigratedPglite();
    const app = createSyncApp({
      database: pgliteDatabase(own),
      authenticate: () => ({ tenant: 'lost', subject: 'root' }),
      aggregates: [Task],
      authority: { Task: 'events' },
      scopes: {
        definitions: [project, assignedTo],
        membership: [taskScopes],
        rules: { project: () => true, assignedTo: () => true, tenant: () => true },
      },
      onError: () => undefined,
    });
    await own.close();
    const response = await app.request('/v2/pull', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ scopes: [{ scope: P1 }, { scope: 'tenant' }] }),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    await app.close();
  }, 60_000);
});

describe('review: 100 scopes x limit 1000', () => {
  it('answers a full pull of 100 scopes at the largest limit, each event once', async () => {
    const tenant = newTenant();
    const ids = Array.from({ length: 100 }, (_, n) => `q${n}`);
    grant(tenant, 'ann', ...ids);
    for (let n = 0; n < 30; n++) {
      const projectId = ids[n % ids.length] as string;
      const created = taskEvent(`k${n}`, 1, 'TaskCreated', {
        projectId,
        title: `t${n}`,
        assignee: 'bob',
      });
      expect((await v1push(tenant, 'root', created)).status).toBe('accepted');
    }
    const answer = await call(events, tenant, 'ann', 'POST', '/v2/pull', {
      scopes: ids.map((projectId) => ({ scope: project({ projectId }).key })),
      limit: 1000,
    });
    expect(answer.status).toBe(200);
    expect(answer.body.items).toHaveLength(30);
    expect(new Set(answer.body.items.map((i: Answer) => i.event.id)).size).toBe(30);
    expect(answer.body.hasMore).toBe(false);
    void P2;
  });
});
