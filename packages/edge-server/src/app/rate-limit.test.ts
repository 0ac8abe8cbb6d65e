import { PROBLEM_JSON } from '@strata/core';
import { bearerToken, commit, todoEvent } from '@strata/tooling/sync/sync-client';
import { afterAll, describe, expect, it } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';
import { jwtAuthentication } from './auth.ts';
import { createSyncApp, type SyncApp } from './create-sync-app.ts';
import {
  addressKey,
  createRequestRateLimiter,
  DEFAULT_RATE_LIMITS,
  isLoopbackAddress,
} from './rate-limit.ts';

const SECRET = 'rate-limit-secret';
const pglite = useMigratedPglite();
const apps: SyncApp[] = [];
afterAll(() => Promise.all(apps.map((app) => app.close())));

function appWith(options: Partial<Parameters<typeof createSyncApp>[0]>): SyncApp {
  const app = createSyncApp({
    database: pgliteDatabase(pglite()),
    authenticate: jwtAuthentication({ secret: SECRET }),
    onError: () => undefined,
    // The test's own address, as a runtime entry point would supply it.
    clientAddress: (request) => request.headers.get('x-test-address') ?? undefined,
    ...options,
  });
  apps.push(app);
  return app;
}

const eventsOf = async (tenant: string) =>
  Number(
    (
      await pglite().query<{ n: number }>(
        'SELECT count(*)::int AS n FROM strata_events WHERE tenant = $1',
        [tenant],
      )
    ).rows[0]?.n,
  );

describe('request rate limits (issue 12, item 5)', () => {
  it('a principal over its limit gets 429 RATE_LIMITED with Retry-After; nothing stored; others go on', async () => {
    const app = appWith({ rateLimits: { perPrincipal: { requests: 3, windowMs: 60_000 } } });
    const token = await bearerToken(SECRET, 'tenant-flood');
    const other = await bearerToken(SECRET, 'tenant-calm');
    const push = (bearer: string) =>
      app.request('/v1/push', {
        method: 'POST',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          clientId: 'c',
          commits: [commit(`k-${Math.random()}`, todoEvent(`t-${Math.random()}`, 1))],
        }),
      });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await push(token)).status);
    expect(statuses).toEqual([200, 200, 200]);
    const limited = await push(token);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toBe(PROBLEM_JSON);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const problem = (await limited.json()) as { code: string; retryAfterSeconds: number };
    expect(problem).toMatchObject({ code: 'RATE_LIMITED' });
    expect(problem.retryAfterSeconds).toBe(20); // one token back every 20 s
    expect(await eventsOf('tenant-flood')).toBe(3);
    expect((await push(other)).status).toBe(200);
  });

  it('an address over its limit is refused before authentication: forged tokens count', async () => {
    const app = appWith({ rateLimits: { perAddress: { requests: 2, windowMs: 60_000 } } });
    const from = (address: string, token = 'forged') =>
      app.request('/v1/pull', {
        headers: { authorization: `Bearer ${token}`, 'x-test-address': address },
      });
    expect((await from('203.0.113.7')).status).toBe(401);
    expect((await from('203.0.113.7')).status).toBe(401);
    const good = await bearerToken(SECRET, 'tenant-addr');
    const limited = await from('203.0.113.7', good);
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ code: 'RATE_LIMITED' });
    expect((await from('203.0.113.8', good)).status).toBe(200);
  });

  it('one IPv6 /64 is one client; loopback is not limited unless told', async () => {
    const app = appWith({ rateLimits: { perAddress: { requests: 1, windowMs: 60_000 } } });
    const token = await bearerToken(SECRET, 'tenant-v6');
    const from = (address: string) =>
      app.request('/v1/pull', {
        headers: { authorization: `Bearer ${token}`, 'x-test-address': address },
      });
    expect((await from('2001:db8:1:2::1')).status).toBe(200);
    expect((await from('2001:db8:1:2:ffff::9')).status).toBe(429);
    expect((await from('2001:db8:1:3::1')).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await from('127.0.0.1')).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await from('::1')).status).toBe(200);
  });

  it('one limiter shared by several apps (the Worker builds an app per request) keeps counting', async () => {
    const shared = createRequestRateLimiter({ perPrincipal: { requests: 2, windowMs: 60_000 } });
    const token = await bearerToken(SECRET, 'tenant-shared');
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const app = appWith({ rateLimits: shared });
      statuses.push(
        (await app.request('/v1/pull', { headers: { authorization: `Bearer ${token}` } })).status,
      );
    }
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('rateLimits: false turns them off; the health check is never limited', async () => {
    const off = appWith({ rateLimits: false });
    const strict = appWith({
      rateLimits: { perAddress: { requests: 1, windowMs: 60_000 }, limitLoopback: true },
    });
    const token = await bearerToken(SECRET, 'tenant-off');
    for (let i = 0; i < 5; i++) {
      const response = await off.request('/v1/pull', {
        headers: { authorization: `Bearer ${token}`, 'x-test-address': '198.51.100.1' },
      });
      expect(response.status).toBe(200);
      expect(
        (await strict.request('/healthz', { headers: { 'x-test-address': '127.0.0.1' } })).status,
      ).toBe(200);
    }
  });

  it('keeps at most maxKeys buckets; a flood of new keys shares one bucket instead of evicting', () => {
    const limiter = createRequestRateLimiter({
      perAddress: { requests: 1, windowMs: 60_000 },
      maxKeys: 2,
    });
    limiter.checkAddress('192.0.2.1', 0);
    limiter.checkAddress('192.0.2.2', 0);
    expect(() => limiter.checkAddress('192.0.2.2', 0)).toThrow(/Too many requests/);
    // Both buckets are in use: new keys share the overflow bucket (one request, then refused),
    // and neither of the known clients is forgotten (so neither escapes its limit).
    limiter.checkAddress('192.0.2.3', 0);
    expect(() => limiter.checkAddress('192.0.2.4', 0)).toThrow(/Too many requests/);
    expect(() => limiter.checkAddress('192.0.2.1', 0)).toThrow(/Too many requests/);
    expect(() => limiter.checkAddress('192.0.2.2', 0)).toThrow(/Too many requests/);
    // Once the least recently used bucket has refilled, forgetting it changes nothing: a new key
    // takes its place.
    limiter.checkAddress('192.0.2.5', 60_000);
    expect(() => limiter.checkAddress('192.0.2.5', 60_000)).toThrow(/Too many requests/);
  });

  it('refuses nonsense settings; defaults are generous and documented', () => {
    expect(() => createRequestRateLimiter({ perPrincipal: { requests: 0, windowMs: 1 } })).toThrow(
      RangeError,
    );
    expect(() => createRequestRateLimiter({ maxKeys: 0 })).toThrow(RangeError);
    expect(DEFAULT_RATE_LIMITS.perPrincipal).toEqual({ requests: 3000, windowMs: 60_000 });
  });
});

describe('addresses', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['2001:db8:0:1::5', '2001:db8:0:1::/64'],
    ['2001:0db8:0000:0001:aaaa:bbbb:cccc:dddd', '2001:db8:0:1::/64'],
    ['[2001:db8::1]', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ])('%s counts as %s', (address, key) => {
    expect(addressKey(address)).toBe(key);
  });

  it('knows loopback', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'].map(isLoopbackAddress)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['10.0.0.1', '::2', '1.127.0.0'].some(isLoopbackAddress)).toBe(false);
  });
});
