import { PROBLEM_JSON } from '@strata/core';
import { bearerToken, commit, todoEvent } from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import { jwtAuthentication, singleTenant } from './auth.ts';
import { createSyncApp, type SyncApp } from './create-sync-app.ts';

const pglite = useMigratedPglite();
let open: SyncApp; // no authentication: every caller is tenant "default"
let jwt: SyncApp;

beforeAll(() => {
  const database = pgliteDatabase(pglite());
  open = createSyncApp({
    database,
    authenticate: singleTenant(),
    corsOrigins: ['https://app.example'],
    allowedHosts: ['sync.lan'],
    onError: () => undefined,
  });
  jwt = createSyncApp({
    database,
    authenticate: jwtAuthentication({ secret: 'guard-secret' }),
    onError: () => undefined,
  });
});
afterAll(async () => {
  await open?.close();
  await jwt?.close();
});
beforeEach(async () => {
  await pglite().query('DELETE FROM strata_events');
});

const pushBody = () =>
  JSON.stringify({ clientId: 'c', commits: [commit('k1', todoEvent(`t-${Math.random()}`, 1))] });
const storedEvents = async () =>
  Number(
    (await pglite().query<{ n: number }>('SELECT count(*)::int AS n FROM strata_events')).rows[0]
      ?.n,
  );

async function expectRefused(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe(PROBLEM_JSON);
  expect(await response.json()).toMatchObject({ code });
  expect(await storedEvents()).toBe(0);
}

describe('request guard (issue 12, item 7): cross-site writes', () => {
  it('stores a same-origin JSON push, and one from a CORS origin', async () => {
    const same = await open.request('http://localhost:8787/v1/push', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://localhost:8787' },
      body: pushBody(),
    });
    expect(same.status).toBe(200);
    const listed = await open.request('http://127.0.0.1/v1/push', {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', origin: 'https://app.example' },
      body: pushBody(),
    });
    expect(listed.status).toBe(200);
    expect(await storedEvents()).toBe(2);
  });

  it.each([
    ['text/plain', { 'content-type': 'text/plain' }, () => pushBody()],
    ['text/plain (default of a string body)', {}, () => pushBody()],
    [
      'a form',
      { 'content-type': 'application/x-www-form-urlencoded' },
      () => new URLSearchParams({ [pushBody()]: '' }).toString(),
    ],
    [
      'multipart',
      {},
      () => {
        const form = new FormData();
        form.set('body', pushBody());
        return form;
      },
    ],
    ['an untyped body with a length', { 'content-length': '120' }, () => new Blob([pushBody()])],
  ] as const)('refuses %s with 415, storing nothing', async (_label, headers, body) => {
    await expectRefused(
      await open.request('http://localhost/v1/push', { method: 'POST', headers, body: body() }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it('the same holds with JWT: a 415 before anything is parsed', async () => {
    const token = await bearerToken('guard-secret', 'tenant-g');
    await expectRefused(
      await jwt.request('http://sync.example/v1/push', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
        body: pushBody(),
      }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it.each([
    ['a foreign origin', { origin: 'https://evil.example' }],
    ['Origin: null (sandboxed frame, file)', { origin: 'null' }],
    ['an origin of another port', { origin: 'http://localhost:6666' }],
    ['no Origin but Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
  ])('refuses a JSON push from %s with 403', async (_label, headers) => {
    await expectRefused(
      await open.request('http://localhost:8787/v1/push', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: pushBody(),
      }),
      403,
      'FORBIDDEN',
    );
  });

  it('refuses other writes from a foreign origin too (consumer groups, key deletion)', async () => {
    const evil = { origin: 'https://evil.example', 'content-type': 'application/json' };
    const group = await open.request('http://localhost/v1/groups/jobs', {
      method: 'PUT',
      headers: evil,
      body: '{}',
    });
    expect(group.status).toBe(403);
    const forget = await open.request('http://localhost/v1/streams/Todo/t1/key', {
      method: 'DELETE',
      headers: { origin: 'https://evil.example' },
    });
    expect(forget.status).toBe(403);
    const groups = await pglite().query('SELECT 1 FROM strata_consumer_groups');
    expect(groups.rows).toHaveLength(0);
  });

  it('reads from a foreign origin pass the guard (CORS keeps their answers from the page)', async () => {
    const response = await open.request('http://localhost/v1/pull', {
      headers: { origin: 'https://evil.example' },
    });
    expect(response.status).toBe(200);
  });
});

describe('request guard: DNS rebinding on a server without authentication', () => {
  it.each([
    'http://evil.example/v1/pull',
    'http://evil.example:8787/v1/push',
    'http://127.0.0.1.evil.example/v1/pull',
    'http://localhost.evil.example/v1/pull',
  ])('refuses %s with 403, storing nothing', async (url) => {
    const response = await open.request(url, {
      method: url.endsWith('push') ? 'POST' : 'GET',
      headers: { 'content-type': 'application/json' },
      ...(url.endsWith('push') ? { body: pushBody() } : {}),
    });
    await expectRefused(response, 403, 'FORBIDDEN');
  });

  it('answers loopback names and allowedHosts', async () => {
    for (const url of [
      'http://localhost:8787/v1/pull',
      'http://127.0.0.1/v1/pull',
      'http://[::1]:9000/v1/pull',
      'http://LOCALHOST/v1/pull',
      'http://sync.lan:8787/v1/pull',
    ]) {
      expect((await open.request(url)).status, url).toBe(200);
    }
  });

  it('with JWT any host is answered (tokens, not the network, decide)', async () => {
    const token = await bearerToken('guard-secret', 'tenant-h');
    const response = await jwt.request('http://sync.example.com/v1/pull', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
  });

  it('the health check is not guarded (probes use any host)', async () => {
    expect((await open.request('http://10.0.0.5/healthz')).status).toBe(200);
  });
});
