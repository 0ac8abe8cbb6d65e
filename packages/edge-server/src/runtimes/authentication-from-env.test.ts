import { sign } from 'hono/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type JwksProvider,
  type ProviderKey,
  providerKey,
  startJwksProvider,
} from '../../test/fixtures/jwks-provider.ts';
import { authenticatesNobody } from '../app/auth.ts';
import {
  authenticationFromEnv,
  cachedAuthenticationFromEnv,
  tokenAuthenticationInEnv,
} from './authentication-from-env.ts';
import { authenticationFor } from './env.ts';

const SECRET = 'authentication-from-env-secret-32-chars';

function bearer(token: string): Request {
  return new Request('http://localhost/v1/pull', { headers: { authorization: `Bearer ${token}` } });
}

describe('authenticationFromEnv', () => {
  it('verifies HS256 tokens with JWT_SECRET', async () => {
    const warnings: string[] = [];
    const authenticate = authenticationFromEnv({ JWT_SECRET: ` ${SECRET} ` }, (line) =>
      warnings.push(line),
    );
    expect(authenticatesNobody(authenticate)).toBe(false);
    const exp = Math.floor(Date.now() / 1000) + 60;
    const token = await sign({ sub: 'ada', tenant: 'acme', exp }, SECRET);
    await expect(authenticate(bearer(token))).resolves.toMatchObject({
      tenant: 'acme',
      subject: 'ada',
    });
    const forged = await sign(
      { sub: 'ada', tenant: 'acme', exp },
      'another-secret-of-32-characters!!',
    );
    await expect(authenticate(bearer(forged))).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(warnings).toEqual([]);
  });

  it('lets everyone in as tenant "default", with a warning, when nothing is configured', async () => {
    const warnings: string[] = [];
    const authenticate = authenticationFromEnv({ JWT_SECRET: '  ' }, (line) => warnings.push(line));
    expect(authenticatesNobody(authenticate)).toBe(true);
    await expect(
      Promise.resolve(authenticate(new Request('http://localhost/'))),
    ).resolves.toMatchObject({
      tenant: 'default',
    });
    expect(warnings.join('\n')).toContain('JWT_SECRET is not set');
  });
});

describe('authenticationFromEnv: tokens from hosted auth (JWT_JWKS_URL)', () => {
  let key: ProviderKey;
  let provider: JwksProvider;
  const ISSUER = 'https://idp.example.test';
  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: ISSUER,
    aud: 'api-2',
    sub: 'ada',
    org: { id: 'org_7' },
    exp: Math.floor(Date.now() / 1000) + 60,
    ...extra,
  });

  beforeAll(async () => {
    key = await providerKey('ES256');
    provider = await startJwksProvider(key);
  });
  afterAll(async () => {
    await provider?.close();
  });

  const jwksEnv = (extra: Record<string, string> = {}) => ({
    JWT_JWKS_URL: provider.jwksUrl,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: 'api-1, api-2',
    JWT_TENANT_CLAIM: 'org.id',
    ...extra,
  });

  it('verifies against the JWKS with the issuer, audience list, algorithms and tenant claim', async () => {
    const authenticate = authenticationFromEnv(jwksEnv(), () => {
      throw new Error('no warning expected');
    });
    expect(authenticatesNobody(authenticate)).toBe(false);
    await expect(authenticate(bearer(await key.sign(claims())))).resolves.toMatchObject({
      tenant: 'org_7',
      subject: 'ada',
    });
    await expect(
      authenticate(bearer(await key.sign(claims({ aud: 'api-3' })))),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/audience/) });
    const rsaOnly = authenticationFromEnv(jwksEnv({ JWT_ALGORITHMS: 'RS256, PS256' }));
    await expect(rsaOnly(bearer(await key.sign(claims())))).rejects.toMatchObject({
      message: expect.stringMatching(/not allowed/),
    });
  });

  it('applies JWT_CLOCK_TOLERANCE_SECONDS', async () => {
    const expiredAMinuteAgo = await key.sign(claims({ exp: Math.floor(Date.now() / 1000) - 60 }));
    const lenient = authenticationFromEnv(jwksEnv({ JWT_CLOCK_TOLERANCE_SECONDS: '120' }));
    await expect(lenient(bearer(expiredAMinuteAgo))).resolves.toMatchObject({ tenant: 'org_7' });
    await expect(authenticationFromEnv(jwksEnv())(bearer(expiredAMinuteAgo))).rejects.toMatchObject(
      { message: expect.stringMatching(/expired/) },
    );
  });

  it('fails at startup on a contradictory or incomplete setting, naming the variable', () => {
    const fails = (env: Record<string, string>) => () => authenticationFromEnv(env, () => {});
    expect(fails({ JWT_JWKS_URL: provider.jwksUrl, JWT_AUDIENCE: 'a' })).toThrow(
      /JWT_JWKS_URL is set without JWT_ISSUER/,
    );
    expect(fails({ JWT_JWKS_URL: provider.jwksUrl })).toThrow(
      /without JWT_ISSUER and JWT_AUDIENCE/,
    );
    expect(fails(jwksEnv({ JWT_SECRET: SECRET }))).toThrow(/Both JWT_SECRET and JWT_JWKS_URL/);
    expect(fails(jwksEnv({ JWT_ALGORITHMS: 'RS256,HS256' }))).toThrow(/JWT_ALGORITHMS names HS256/);
    expect(fails(jwksEnv({ JWT_ALGORITHMS: 'none' }))).toThrow(/JWT_ALGORITHMS names none/);
    expect(fails(jwksEnv({ JWT_JWKS_URL: 'not a url' }))).toThrow(/JWT_JWKS_URL is not a URL/);
    expect(fails(jwksEnv({ JWT_JWKS_URL: 'ftp://idp/jwks' }))).toThrow(/https:\/\/ URL/);
    expect(fails(jwksEnv({ JWT_CLOCK_TOLERANCE_SECONDS: 'soon' }))).toThrow(
      /JWT_CLOCK_TOLERANCE_SECONDS must be a number/,
    );
    // An issuer check asked for but impossible with HS256, or no authentication at all: refused.
    expect(fails({ JWT_SECRET: SECRET, JWT_ISSUER: ISSUER })).toThrow(
      /JWT_ISSUER is set without JWT_JWKS_URL/,
    );
    expect(fails({ JWT_AUDIENCE: 'a', JWT_TENANT_CLAIM: 'org' })).toThrow(
      /JWT_AUDIENCE, JWT_TENANT_CLAIM are set without JWT_JWKS_URL or JWT_SECRET/,
    );
  });

  it.each([
    ['JWT_JWKS_COOLDOWN_SECONDS', '0', 'from 1 to 86400'],
    ['JWT_JWKS_COOLDOWN_SECONDS', '0.5', 'from 1 to 86400'],
    ['JWT_JWKS_CACHE_MAX_AGE_SECONDS', '0', 'from 1 to 86400'],
    ['JWT_JWKS_CACHE_MAX_AGE_SECONDS', '1e308', 'from 1 to 86400'],
    ['JWT_JWKS_CACHE_MAX_AGE_SECONDS', '86401', 'from 1 to 86400'],
    ['JWT_JWKS_CACHE_MAX_AGE_SECONDS', '0x10', 'from 1 to 86400'],
    ['JWT_JWKS_STALE_IF_ERROR_SECONDS', '-1', 'from 0 to 86400'],
    ['JWT_JWKS_STALE_IF_ERROR_SECONDS', '86401', 'from 0 to 86400'],
    ['JWT_CLOCK_TOLERANCE_SECONDS', '1e12', 'from 0 to 300'],
    ['JWT_CLOCK_TOLERANCE_SECONDS', '301', 'from 0 to 300'],
    ['JWT_CLOCK_TOLERANCE_SECONDS', '-1', 'from 0 to 300'],
    ['JWT_CLOCK_TOLERANCE_SECONDS', ' 1_0', 'from 0 to 300'],
  ])('refuses %s=%s at startup (%s seconds)', (name, value, range) => {
    expect(() => authenticationFromEnv(jwksEnv({ [name]: value }), () => {})).toThrow(
      `${name} must be a number of seconds ${range}, not "${value.trim()}"`,
    );
  });

  it('accepts the bounds and decimals: cooldown 1, cache age a day, no stale-if-error, tolerance 300 and 2.5', () => {
    for (const env of [
      { JWT_JWKS_COOLDOWN_SECONDS: '1', JWT_JWKS_CACHE_MAX_AGE_SECONDS: '86400' },
      { JWT_JWKS_STALE_IF_ERROR_SECONDS: '0' },
      { JWT_JWKS_STALE_IF_ERROR_SECONDS: '86400' },
      { JWT_CLOCK_TOLERANCE_SECONDS: '300' },
      { JWT_CLOCK_TOLERANCE_SECONDS: '2.5', JWT_JWKS_CACHE_MAX_AGE_SECONDS: '1.5' },
    ]) {
      expect(() => authenticationFromEnv(jwksEnv(env), () => {})).not.toThrow();
    }
    // JWT_CLOCK_TOLERANCE_SECONDS also bounds HS256 tokens.
    expect(() =>
      authenticationFromEnv({ JWT_SECRET: SECRET, JWT_CLOCK_TOLERANCE_SECONDS: '1e12' }, () => {}),
    ).toThrow(/JWT_CLOCK_TOLERANCE_SECONDS must be a number of seconds from 0 to 300/);
  });

  it('requires an https JWKS URL unless the host is loopback', () => {
    for (const url of [
      'http://idp.example.com/.well-known/jwks.json',
      'http://10.0.0.5/jwks.json',
      'http://localhost.evil.example/jwks.json',
    ]) {
      expect(() => authenticationFromEnv(jwksEnv({ JWT_JWKS_URL: url }), () => {})).toThrow(
        `JWT_JWKS_URL must be an https:// URL (http:// only on a loopback host), not ${url}`,
      );
    }
    for (const url of [
      'https://idp.example.com/.well-known/jwks.json',
      'http://127.0.0.1:8080/jwks.json',
      'http://[::1]:8080/jwks.json',
      'http://localhost:8080/jwks.json',
    ]) {
      expect(() => authenticationFromEnv(jwksEnv({ JWT_JWKS_URL: url }), () => {})).not.toThrow();
    }
  });

  it('env.ts authenticationFor delegates here', async () => {
    const warnings: string[] = [];
    expect(authenticatesNobody(authenticationFor(undefined, (line) => warnings.push(line)))).toBe(
      true,
    );
    expect(warnings.join()).toContain('JWT_SECRET is not set');
    const authenticate = authenticationFor(SECRET, () => {});
    const token = await sign(
      { sub: 'a', tenant: 't', exp: Math.floor(Date.now() / 1000) + 9 },
      SECRET,
    );
    await expect(authenticate(bearer(token))).resolves.toMatchObject({ tenant: 't' });
  });

  it('tokenAuthenticationInEnv: a secret or a JWKS URL', () => {
    expect(tokenAuthenticationInEnv(jwksEnv())).toBe(true);
    expect(tokenAuthenticationInEnv({ JWT_SECRET: SECRET })).toBe(true);
    expect(tokenAuthenticationInEnv({ JWT_SECRET: ' ', JWT_ISSUER: ISSUER })).toBe(false);
  });

  it('cachedAuthenticationFromEnv builds again only when a JWT_* variable changes', () => {
    const authenticationOf = cachedAuthenticationFromEnv();
    const first = authenticationOf({ ...jwksEnv(), DATABASE_URL: 'postgres://a' });
    expect(authenticationOf({ ...jwksEnv(), DATABASE_URL: 'postgres://b' })).toBe(first);
    expect(authenticationOf(jwksEnv({ JWT_AUDIENCE: 'api-9' }))).not.toBe(first);
  });
});
