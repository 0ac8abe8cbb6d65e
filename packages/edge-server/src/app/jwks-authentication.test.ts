import { isStrataError, PROBLEM_JSON, type StrataError } from '@strata/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hs256WithPublicKey,
  type JwksProvider,
  type ProviderKey,
  providerKey,
  startJwksProvider,
  unsignedToken,
} from '../../test/fixtures/jwks-provider.ts';
import type { Authenticate } from './auth.ts';
import { type JwksAuthenticationOptions, jwksAuthentication } from './jwks-authentication.ts';
import { problemResponse } from './problem-response.ts';

const ISSUER = 'https://auth.example.test/';
const AUDIENCE = 'https://sync.example.test';
const nowSeconds = () => Math.floor(Date.now() / 1000);
const claims = (extra: Record<string, unknown> = {}) => ({
  iss: ISSUER,
  aud: AUDIENCE,
  sub: 'user-1',
  tenant: 'acme',
  exp: nowSeconds() + 300,
  ...extra,
});

const withToken = (token: string) =>
  new Request('http://localhost/v1/pull', { headers: { authorization: `Bearer ${token}` } });

/** The error `authenticate` threw for `token`, as the strata error it must be. */
async function failure(auth: Authenticate, token: string): Promise<StrataError> {
  const error = await Promise.resolve()
    .then(() => auth(withToken(token)))
    .then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
  if (!isStrataError(error)) throw new Error(`expected a strata error, got ${String(error)}`);
  return error;
}

async function refusal(auth: Authenticate, token: string): Promise<string> {
  const error = await failure(auth, token);
  expect(error.code).toBe('UNAUTHORIZED');
  return error.message;
}

let rsa: ProviderKey;
let ec: ProviderKey;
let ed: ProviderKey;
let provider: JwksProvider;

beforeAll(async () => {
  [rsa, ec, ed] = await Promise.all([
    providerKey('RS256'),
    providerKey('ES256'),
    providerKey('EdDSA'),
  ]);
  provider = await startJwksProvider(rsa, ec, ed);
});

afterAll(async () => {
  await provider?.close();
});

const auth = (options: Partial<JwksAuthenticationOptions> = {}, jwksUrl = provider.jwksUrl) =>
  jwksAuthentication({ jwksUrl, issuer: ISSUER, audience: AUDIENCE, ...options });

describe('jwksAuthentication: tokens from hosted auth', () => {
  it('accepts RS256, ES256 and EdDSA tokens signed by a published key', async () => {
    const authenticate = auth();
    for (const key of [rsa, ec, ed]) {
      const principal = await authenticate(withToken(await key.sign(claims({ sub: key.alg }))));
      expect(principal).toMatchObject({ tenant: 'acme', subject: key.alg });
      expect(principal.claims).toMatchObject({ iss: ISSUER, aud: AUDIENCE });
    }
  });

  it('takes the tenant from a claim path, a namespaced claim or a function', async () => {
    const clerk = auth({ tenantClaim: 'o.id' });
    const token = await rsa.sign(claims({ tenant: undefined, o: { id: 'org_1', rol: 'admin' } }));
    expect(await clerk(withToken(token))).toMatchObject({ tenant: 'org_1' });
    const auth0 = auth({ tenantClaim: 'https://example.test/tenant' });
    const namespaced = await rsa.sign(claims({ 'https://example.test/tenant': 'acme-eu' }));
    expect(await auth0(withToken(namespaced))).toMatchObject({ tenant: 'acme-eu' });
    const custom = auth({ tenant: (c) => `team-${String(c.sub)}` });
    expect(await custom(withToken(await ec.sign(claims())))).toMatchObject({
      tenant: 'team-user-1',
    });
    expect(await refusal(clerk, await rsa.sign(claims()))).toMatch(/"o\.id" claim/);
    expect(await refusal(auth(), await rsa.sign(claims({ sub: undefined })))).toMatch(/"sub"/);
  });

  it('accepts issuer and audience lists', async () => {
    const lists = auth({ issuer: ['https://other/', ISSUER], audience: ['a', AUDIENCE] });
    expect(await lists(withToken(await ed.sign(claims())))).toMatchObject({ tenant: 'acme' });
  });
});

describe('jwksAuthentication: refusals', () => {
  it('refuses a wrong issuer and a wrong audience', async () => {
    const authenticate = auth();
    expect(await refusal(authenticate, await rsa.sign(claims({ iss: 'https://evil/' })))).toMatch(
      /another issuer/,
    );
    expect(await refusal(authenticate, await rsa.sign(claims({ aud: 'other-app' })))).toMatch(
      /another audience/,
    );
    expect(await refusal(authenticate, await rsa.sign(claims({ iss: undefined })))).toMatch(
      /"iss"/,
    );
  });

  it('refuses an expired token (past the clock tolerance) and one without exp', async () => {
    const authenticate = auth();
    expect(await refusal(authenticate, await ec.sign(claims({ exp: nowSeconds() - 31 })))).toMatch(
      /expired at/,
    );
    // Within the 30 s of tolerance: accepted, unless the tolerance is 0.
    const justExpired = await ec.sign(claims({ exp: nowSeconds() - 10 }));
    expect(await authenticate(withToken(justExpired))).toMatchObject({ tenant: 'acme' });
    expect(await refusal(auth({ clockToleranceSeconds: 0 }), justExpired)).toMatch(/expired/);
    expect(await refusal(authenticate, await ec.sign(claims({ exp: undefined })))).toMatch(
      /no "exp"/,
    );
    expect(await refusal(authenticate, await ec.sign(claims({ nbf: nowSeconds() + 120 })))).toMatch(
      /"nbf"/,
    );
  });

  it('refuses a cached token once it expires', async () => {
    let clock = Date.now();
    const authenticate = auth({ now: () => clock, clockToleranceSeconds: 0 });
    const token = await rsa.sign(claims({ exp: Math.floor(clock / 1000) + 5 }));
    expect(await authenticate(withToken(token))).toMatchObject({ tenant: 'acme' });
    clock += 6_000;
    expect(await refusal(authenticate, token)).toMatch(/expired at/);
  });

  it('refuses algorithms that are not allowed: another asymmetric one, HS256 with the public key, none', async () => {
    const rsaOnly = auth({ algorithms: ['RS256'] });
    expect(await refusal(rsaOnly, await ec.sign(claims()))).toMatch(/algorithm.*not allowed/);
    const before = provider.fetches;
    // The classic confusion: the public key's PEM used as an HMAC secret.
    const forged = await hs256WithPublicKey(rsa, claims());
    expect(await refusal(auth(), forged)).toMatch(/algorithm.*not allowed/);
    expect(await refusal(auth({ algorithms: ['RS256', 'ES256'] }), forged)).toMatch(/not allowed/);
    expect(await refusal(auth(), unsignedToken(claims(), rsa.kid))).toMatch(/not allowed/);
    // Refused on the header alone: the provider was not asked.
    expect(provider.fetches).toBe(before);
  });

  it('will not be configured to accept none or HMAC', () => {
    expect(() => auth({ algorithms: ['HS256' as never] })).toThrow(/HS256 cannot be verified/);
    expect(() => auth({ algorithms: ['none' as never] })).toThrow(/none cannot be verified/);
    expect(() => auth({ algorithms: [] })).toThrow(/at least one/);
    expect(() => auth({ issuer: '' })).toThrow(/issuer/);
    expect(() => auth({ audience: [] })).toThrow(/audience/);
    expect(() => auth({}, 'file:///etc/passwd')).toThrow(/http/);
  });

  it('will not be configured with a plain-http key set on a public host, or times out of range', () => {
    expect(() => auth({}, 'http://idp.example.com/.well-known/jwks.json')).toThrow(
      'jwksUrl must be an https:// URL (http:// only on a loopback host), not http://idp.example.com/.well-known/jwks.json',
    );
    expect(() => auth({}, 'http://localhost:1/jwks.json')).not.toThrow();
    expect(() => auth({}, 'http://[::1]:1/jwks.json')).not.toThrow();
    const refused: [Partial<JwksAuthenticationOptions>, string][] = [
      [{ cooldownSeconds: 0 }, 'cooldownSeconds must be from 1 to 86400, got 0'],
      [{ cacheMaxAgeSeconds: 0 }, 'cacheMaxAgeSeconds must be from 1 to 86400, got 0'],
      [{ cacheMaxAgeSeconds: 1e308 }, 'cacheMaxAgeSeconds must be from 1 to 86400, got 1e+308'],
      [
        { clockToleranceSeconds: 1e12 },
        'clockToleranceSeconds must be from 0 to 300, got 1000000000000',
      ],
      [{ clockToleranceSeconds: -1 }, 'clockToleranceSeconds must be from 0 to 300, got -1'],
      [{ timeoutMs: 1e12 }, 'timeoutMs must be from 1 to 2147483647, got 1000000000000'],
      [{ timeoutMs: 0 }, 'timeoutMs must be from 1 to 2147483647, got 0'],
      [{ cooldownSeconds: Number.NaN }, 'cooldownSeconds must be from 1 to 86400, got NaN'],
      [{ staleIfErrorSeconds: -1 }, 'staleIfErrorSeconds must be from 0 to 86400, got -1'],
      [{ staleIfErrorSeconds: 86_401 }, 'staleIfErrorSeconds must be from 0 to 86400, got 86401'],
    ];
    for (const [options, message] of refused) {
      expect(() => auth(options)).toThrow(new RangeError(message));
    }
    expect(() =>
      auth({
        cooldownSeconds: 1,
        cacheMaxAgeSeconds: 86_400,
        clockToleranceSeconds: 300,
        timeoutMs: 2_147_483_647,
        staleIfErrorSeconds: 0,
      }),
    ).not.toThrow();
  });

  it('refuses a bad signature, a key it does not know, garbage and no token', async () => {
    const authenticate = auth();
    const token = await rsa.sign(claims());
    const [header, , signature] = token.split('.');
    const victim = Buffer.from(JSON.stringify(claims({ tenant: 'victim' }))).toString('base64url');
    expect(await refusal(authenticate, `${header}.${victim}.${signature}`)).toMatch(/signature/);
    const stranger = await providerKey('RS256');
    expect(await refusal(authenticate, await stranger.sign(claims()))).toMatch(/unknown key/);
    expect(await refusal(authenticate, 'not.a.jwt')).toMatch(/not valid/);
    const error = await failure(authenticate, '');
    expect(error.message).toMatch(/bearer token is required/);
    const response = problemResponse(error, '/v1/pull');
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe(PROBLEM_JSON);
  });
});

describe('jwksAuthentication: key rotation and the JWKS cache', () => {
  it('picks up a rotated key, keeps the old one while published, drops it once withdrawn', async () => {
    const [oldKey, newKey] = await Promise.all([
      providerKey('RS256', 'old'),
      providerKey('RS256', 'new'),
    ]);
    const idp = await startJwksProvider(oldKey);
    try {
      const authenticate = auth({ cooldownSeconds: 1 }, idp.jwksUrl);
      const pastCooldown = () => new Promise((resolve) => setTimeout(resolve, 1100));
      const oldToken = await oldKey.sign(claims());
      expect(await authenticate(withToken(oldToken))).toMatchObject({ tenant: 'acme' });
      expect(idp.fetches).toBe(1);
      // Rotation: the provider publishes the new key next to the old one and signs with it.
      idp.publish(oldKey, newKey);
      await pastCooldown();
      const newToken = await newKey.sign(claims());
      expect(await authenticate(withToken(newToken))).toMatchObject({ tenant: 'acme' });
      expect(idp.fetches).toBe(2); // the unknown kid fetched the key set again
      expect(await authenticate(withToken(oldToken))).toMatchObject({ tenant: 'acme' });
      expect(await authenticate(withToken(await oldKey.sign(claims())))).toMatchObject({
        tenant: 'acme',
      });
      // The old key is withdrawn; the next fetch (here: caused by another unknown kid) drops it,
      // for new tokens and for the old token verified (and cached) before.
      idp.publish(newKey);
      await pastCooldown();
      const stranger = await providerKey('RS256', 'stranger');
      expect(await refusal(authenticate, await stranger.sign(claims()))).toMatch(/unknown key/);
      expect(await refusal(authenticate, oldToken)).toMatch(/unknown key/);
      expect(await refusal(authenticate, await oldKey.sign(claims()))).toMatch(/unknown key/);
      expect(await authenticate(withToken(newToken))).toMatchObject({ tenant: 'acme' });
    } finally {
      await idp.close();
    }
  });

  it('checks a cached token against the key that verified it: a kid-less token or a reused kid stops once that key is replaced', async () => {
    const withKid = (key: ProviderKey, kid: string | undefined): ProviderKey => ({
      ...key,
      publicJwk: (({ kid: _, ...jwk }) => (kid === undefined ? jwk : { ...jwk, kid }))(
        key.publicJwk,
      ),
    });
    const scenario = async (kid: string | undefined) => {
      const [oldKey, newKey] = await Promise.all([providerKey('RS256'), providerKey('RS256')]);
      const idp = await startJwksProvider(withKid(oldKey, kid));
      try {
        const authenticate = auth({ cacheMaxAgeSeconds: 1 }, idp.jwksUrl);
        const oldToken = await oldKey.sign(claims(), { kid });
        expect(await authenticate(withToken(oldToken))).toMatchObject({ tenant: 'acme' });
        // The provider replaces the key by another one under the same kid (or none).
        idp.publish(withKid(newKey, kid));
        await new Promise((resolve) => setTimeout(resolve, 1100)); // the key set ages out
        expect(await refusal(authenticate, oldToken)).toMatch(/not valid \(signature\)/);
        expect(await refusal(authenticate, oldToken)).toMatch(/not valid \(signature\)/);
        const newToken = await newKey.sign(claims(), { kid });
        expect(await authenticate(withToken(newToken))).toMatchObject({ tenant: 'acme' });
        expect(await authenticate(withToken(newToken))).toMatchObject({ tenant: 'acme' });
        expect(idp.fetches).toBe(2);
      } finally {
        await idp.close();
      }
    };
    await Promise.all([scenario(undefined), scenario('k1')]);
  });

  it('refetches the key set once it is older than cacheMaxAgeSeconds', async () => {
    const [oldKey, newKey] = await Promise.all([providerKey('ES256'), providerKey('ES256')]);
    const idp = await startJwksProvider(oldKey, newKey);
    try {
      const authenticate = auth({ cacheMaxAgeSeconds: 1 }, idp.jwksUrl);
      const oldToken = await oldKey.sign(claims());
      expect(await authenticate(withToken(oldToken))).toMatchObject({ tenant: 'acme' });
      idp.publish(newKey);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(await refusal(authenticate, oldToken)).toMatch(/unknown key/);
      expect(await authenticate(withToken(await newKey.sign(claims())))).toMatchObject({
        tenant: 'acme',
      });
    } finally {
      await idp.close();
    }
  });

  it('fetches at most once per cooldown however many unknown kids arrive', async () => {
    const key = await providerKey('EdDSA');
    const idp = await startJwksProvider(key);
    try {
      const authenticate = auth({}, idp.jwksUrl); // the default 30 s cooldown
      expect(await authenticate(withToken(await key.sign(claims())))).toMatchObject({
        tenant: 'acme',
      });
      const flood = await Promise.all(
        Array.from({ length: 50 }, (_, i) => key.sign(claims(), { kid: `made-up-${i}` })),
      );
      const messages = await Promise.all(flood.map((token) => refusal(authenticate, token)));
      expect(new Set(messages)).toEqual(new Set([expect.stringMatching(/unknown key/)]));
      expect(idp.fetches).toBe(1);
    } finally {
      await idp.close();
    }
  });
});

describe('jwksAuthentication: a provider that is down or broken', () => {
  it('answers 503 (retry), not 401, when the JWKS host is unreachable', async () => {
    const idp = await startJwksProvider(rsa);
    const deadUrl = idp.jwksUrl;
    await idp.close(); // nothing listens on that port any more
    const reported: unknown[] = [];
    const authenticate = auth({ onProviderError: (e) => reported.push(e) }, deadUrl);
    const error = await failure(authenticate, await rsa.sign(claims()));
    expect(error.code).toBe('UNAVAILABLE');
    // The caller (not yet authenticated) learns nothing of the provider; the operator does.
    expect(error.message).toBe("The identity provider's keys could not be fetched; retry");
    expect(reported).toHaveLength(1);
    expect(String((reported[0] as Error).message)).toMatch(
      /key set \(JWKS\) at http:\/\/127\.0\.0\.1:\d+.* unreachable/,
    );
    const response = problemResponse(error, '/v1/pull');
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe(PROBLEM_JSON);
    expect(response.headers.get('retry-after')).toBe('5');
    const body = await response.text();
    expect(body).not.toContain('127.0.0.1');
    expect(body).not.toMatch(/JWKS|fetch failed/);
    // Within the 5 s after the failure, requests are answered 503 without a new report.
    await failure(authenticate, await rsa.sign(claims()));
    expect(reported).toHaveLength(1);
    // Still refuses bad tokens as 401 without asking the provider (the alg is checked first).
    expect(await refusal(authenticate, unsignedToken(claims()))).toMatch(/not allowed/);
  });

  it('keeps verifying with a fresh key set while a refetch for an unknown kid fails; 503 once the set expires (no stale-if-error)', async () => {
    const key = await providerKey('RS256');
    const idp = await startJwksProvider(key);
    try {
      const authenticate = auth(
        { cooldownSeconds: 1, cacheMaxAgeSeconds: 2, staleIfErrorSeconds: 0 },
        idp.jwksUrl,
      );
      const alice = await key.sign(claims({ sub: 'alice' }));
      expect(await authenticate(withToken(alice))).toMatchObject({ subject: 'alice' });
      idp.answer(429, 'slow down'); // the provider blips
      await new Promise((resolve) => setTimeout(resolve, 1100)); // past the cooldown
      const madeUp = await key.sign(claims(), { kid: 'made-up' });
      expect(await refusal(authenticate, madeUp)).toMatch(/unknown key/);
      expect(idp.fetches).toBe(2); // it did ask the provider
      // Known keys (cached tokens and new ones) still verify with the set held.
      expect(await authenticate(withToken(alice))).toMatchObject({ subject: 'alice' });
      const bob = await key.sign(claims({ sub: 'bob' }));
      expect(await authenticate(withToken(bob))).toMatchObject({ subject: 'bob' });
      // More made-up kids right after the failure do not ask the failing provider again.
      for (let i = 0; i < 5; i += 1) {
        const token = await key.sign(claims(), { kid: `made-up-${i}` });
        expect(await refusal(authenticate, token)).toMatch(/unknown key/);
      }
      expect(idp.fetches).toBe(2);
      // Once the held set is older than cacheMaxAgeSeconds, nothing can be verified: 503.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect((await failure(authenticate, alice)).code).toBe('UNAVAILABLE');
    } finally {
      await idp.close();
    }
  });

  it('keeps verifying with a stale key set for staleIfErrorSeconds while the provider is down, then 503, and recovers', async () => {
    const key = await providerKey('RS256');
    const idp = await startJwksProvider(key);
    try {
      const reported: string[] = [];
      const authenticate = auth(
        {
          cacheMaxAgeSeconds: 1,
          staleIfErrorSeconds: 2,
          onProviderError: (error) => reported.push(error.message),
        },
        idp.jwksUrl,
      );
      const alice = await key.sign(claims({ sub: 'alice' }));
      expect(await authenticate(withToken(alice))).toMatchObject({ subject: 'alice' });
      expect(idp.fetches).toBe(1);
      idp.answer(500, 'down');
      await new Promise((resolve) => setTimeout(resolve, 1100)); // the set is now stale
      // Renewing fails; the stale set serves: cached and new tokens of its key, and an unknown
      // kid is still a 401, not a 503.
      expect(await authenticate(withToken(alice))).toMatchObject({ subject: 'alice' });
      expect(idp.fetches).toBe(2);
      expect(reported).toHaveLength(1);
      const bob = await key.sign(claims({ sub: 'bob' }));
      expect(await authenticate(withToken(bob))).toMatchObject({ subject: 'bob' });
      expect(await refusal(authenticate, await key.sign(claims(), { kid: 'made-up' }))).toMatch(
        /unknown key/,
      );
      expect(idp.fetches).toBe(2); // within the 5 s after the failure: not asked again
      // Past staleIfErrorSeconds since the set was last fresh: nothing verifies.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect((await failure(authenticate, alice)).code).toBe('UNAVAILABLE');
      // The provider is back: once the 5 s after the last failure are over, it is asked again.
      idp.publish(key);
      await new Promise((resolve) => setTimeout(resolve, 5100 - 2000));
      expect(await authenticate(withToken(alice))).toMatchObject({ subject: 'alice' });
      expect(idp.fetches).toBe(3);
    } finally {
      await idp.close();
    }
  }, 15_000);

  it('answers 503 for a malformed key set, a non-JSON answer and a 500, and recovers', async () => {
    const idp = await startJwksProvider(rsa);
    try {
      const token = await rsa.sign(claims());
      const reported: string[] = [];
      const reporting = () => ({
        onProviderError: (error: Error) => reported.push(error.message),
      });
      idp.answer(200, JSON.stringify({ keys: 'none here' }));
      const malformed = await failure(auth(reporting(), idp.jwksUrl), token);
      expect(malformed).toMatchObject({ code: 'UNAVAILABLE' });
      expect(reported.at(-1)).toMatch(/is malformed/);
      idp.answer(200, '<html>login</html>');
      expect((await failure(auth(reporting(), idp.jwksUrl), token)).code).toBe('UNAVAILABLE');
      expect(reported.at(-1)).toMatch(/as JSON/);
      idp.answer(500, 'oops');
      const authenticate = auth(reporting(), idp.jwksUrl);
      expect((await failure(authenticate, token)).code).toBe('UNAVAILABLE');
      expect(reported.at(-1)).toMatch(/Expected 200 OK/);
      // Within the 5 s after a failure the provider is not asked again; after it, it is.
      idp.publish(rsa);
      const fetches = idp.fetches;
      expect((await failure(authenticate, token)).code).toBe('UNAVAILABLE');
      expect(idp.fetches).toBe(fetches);
    } finally {
      await idp.close();
    }
  });
});
