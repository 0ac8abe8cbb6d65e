/**
 * The log's identity and the pull anchor (issue 17), over HTTP on Postgres through the Neon
 * driver: every sync answer names the log, a pull whose anchor the log no longer holds is
 * `LOG_DIVERGED`, and the check tells one tenant nothing about another's log.
 */
import { createTestDatabase, type Pool, type TestDatabase } from '@strata/tooling/postgres/neon';
import { bearerToken, commit, todoEvent } from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtAuthentication } from '../app/auth.ts';
import { createSyncApp, type SyncApp } from '../app/create-sync-app.ts';
import { migrate } from '../migrations/migrations.ts';
import { neonDatabase } from '../postgres/neon-database.ts';
import { createLogIdentity, readLogId, replaceLogIdentity } from './log-identity.ts';

const SECRET = 'log-identity-secret';
let database: TestDatabase;
let pool: Pool;
let app: SyncApp;
let token: string;
let otherToken: string;

interface Page {
  events: { id: string; position: number }[];
  cursor: string;
}

async function pull(bearer: string, anchor?: string, after?: string) {
  const query = after === undefined ? '' : `&after=${after}`;
  const response = await app.request(`/v1/pull?limit=100${query}`, {
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(anchor === undefined ? {} : { 'strata-anchor': anchor }),
    },
  });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    logId: response.headers.get('strata-log-id'),
    body: (await response.json()) as Page & Record<string, unknown>,
  };
}

async function push(bearer: string, ...aggregates: string[]) {
  const response = await app.request('/v1/push', {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      clientId: 'c',
      commits: aggregates.map((id) => commit(`c-${id}`, todoEvent(id, 1))),
    }),
  });
  expect(response.status).toBe(200);
}

beforeAll(async () => {
  database = await createTestDatabase();
  pool = database.createPool({ max: 4 });
  await migrate(neonDatabase(pool));
  app = createSyncApp({
    database: neonDatabase(pool),
    authenticate: jwtAuthentication({ secret: SECRET }),
    onError: () => undefined,
  });
  token = await bearerToken(SECRET, 'anchor-tenant');
  otherToken = await bearerToken(SECRET, 'other-tenant');
  await push(token, 'a', 'b', 'c');
  await push(otherToken, 'x', 'y');
});

afterAll(async () => {
  await app?.close();
  await pool?.end();
  await database?.drop();
});

describe('the log identity', () => {
  it('is made with the database and sent on every pull answer, errors included, not on pushes', async () => {
    const stored = await readLogId(neonDatabase(pool));
    expect(stored).toMatch(/^[0-9a-f-]{36}$/);
    expect((await pull(token)).logId).toBe(stored);
    expect((await pull(otherToken)).logId).toBe(stored);
    const refused = await app.request('/v1/pull?limit=0', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('strata-log-id')).toBe(stored);
    const pushed = await app.request('/v1/push', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: 'c', commits: [] }),
    });
    expect(pushed.headers.get('strata-log-id')).toBeNull();
  });

  it('replaceLogIdentity gives the log a new one, which an instance reads after its cache time', async () => {
    const db = neonDatabase(pool);
    let now = 0;
    const identity = createLogIdentity(db, { cacheMs: 1000, now: () => now });
    const before = await identity.current();
    const replaced = await replaceLogIdentity(db);
    expect(replaced).not.toBe(before);
    expect(await readLogId(db)).toBe(replaced);
    expect(await identity.current()).toBe(before); // cached
    now = 1000;
    expect(await identity.current()).toBe(replaced);
  });

  it('a database that cannot say (no table) leaves the header out instead of failing', async () => {
    const broken = createLogIdentity({
      query: async () => {
        throw new Error('relation "strata_log_identity" does not exist');
      },
    } as never);
    await expect(broken.current()).resolves.toBeUndefined();
  });
});

describe('the pull anchor', () => {
  it('a pull whose anchor is the event at that position is served as usual', async () => {
    const all = await pull(token);
    const [, second] = all.body.events;
    if (second === undefined) throw new Error('expected events');
    const anchored = await pull(token, `${second.position}:${second.id}`, `t${second.position}`);
    expect(anchored.status).toBe(200);
    expect(anchored.body.events.map((event) => event.id)).toEqual([all.body.events[2]?.id]);
  });

  it('an anchor the log does not hold at its position, or past its end, is LOG_DIVERGED (409 problem+json)', async () => {
    const all = await pull(token);
    const [first, second] = all.body.events;
    if (first === undefined || second === undefined) throw new Error('expected events');
    for (const anchor of [
      `${second.position}:${first.id}`, // another event at that position
      `99:${second.id}`, // past the end
      `${first.position}:2TnV6vLtuN4Kc1yQdVvP8Wm8Ksm`, // an id never stored
    ]) {
      const answer = await pull(token, anchor);
      expect(answer.status, anchor).toBe(409);
      expect(answer.type).toBe('application/problem+json');
      expect(answer.body.code).toBe('LOG_DIVERGED');
      expect(answer.body.events).toBeUndefined();
    }
  });

  it("another tenant's event is not in this tenant's log: diverged, and nothing of it is told", async () => {
    const theirs = (await pull(otherToken)).body.events[0];
    if (theirs === undefined) throw new Error('expected events');
    const answer = await pull(token, `${theirs.position}:${theirs.id}`);
    expect(answer.status).toBe(409);
    expect(JSON.stringify(answer.body)).not.toContain(theirs.id);
    // The same answer as for an id stored nowhere.
    const nowhere = await pull(token, `${theirs.position}:2TnV6vLtuN4Kc1yQdVvP8Wm8Ksm`);
    const { requestId: _a, ...told } = answer.body;
    const { requestId: _b, ...toldNowhere } = nowhere.body;
    expect(toldNowhere).toEqual(told);
  });

  it('a malformed anchor is ignored, as from a client that sends none', async () => {
    for (const anchor of [
      '',
      'x',
      '0:abc',
      '-1:2TnV6vLtuN4Kc1yQdVvP8Wm8Ksm',
      `1:${'a'.repeat(500)}`,
    ]) {
      const answer = await pull(token, anchor);
      expect(answer.status, anchor).toBe(200);
      expect(answer.body.events).toHaveLength(3);
    }
  });
});
