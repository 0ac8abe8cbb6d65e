import { isStrataError, type UnauthorizedError } from '@strata/core';
import { sign } from 'hono/jwt';
import { describe, expect, it, vi } from 'vitest';
import { jwtAuthentication } from './auth.ts';

const SECRET = 'auth-test-secret';
const NOW_MS = 1_800_000_000_000;
const now = NOW_MS / 1000;
const authenticate = jwtAuthentication({ secret: SECRET, now: () => NOW_MS });

const withToken = (token: string) =>
  new Request('http://localhost/v1/pull', { headers: { authorization: `Bearer ${token}` } });

async function refusal(token: string, auth = authenticate): Promise<UnauthorizedError> {
  const error = await Promise.resolve()
    .then(() => auth(withToken(token)))
    .then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
  if (!isStrataError(error, 'UNAUTHORIZED')) throw new Error(`expected a 401, got ${error}`);
  return error;
}

const base64url = (text: string) => Buffer.from(text).toString('base64url');

describe('jwtAuthentication: hostile tokens (issue 12, item 13)', () => {
  it('accepts a signed token with exp, tenant and sub', async () => {
    const token = await sign({ sub: 'ann', tenant: 'acme', exp: now + 60 }, SECRET);
    expect(await authenticate(withToken(token))).toMatchObject({
      tenant: 'acme',
      subject: 'ann',
      claims: { sub: 'ann', tenant: 'acme' },
    });
  });

  it('refuses a token without exp, unless requireExpiry is false', async () => {
    const token = await sign({ sub: 'ann', tenant: 'acme' }, SECRET);
    expect((await refusal(token)).message).toMatch(/no "exp"/);
    const lax = jwtAuthentication({ secret: SECRET, requireExpiry: false, now: () => NOW_MS });
    expect(await lax(withToken(token))).toMatchObject({
      tenant: 'acme',
      subject: 'ann',
      claims: { sub: 'ann', tenant: 'acme' },
    });
  });

  it('refuses an expired token, but one expired within the clock tolerance passes', async () => {
    const expired = await sign({ sub: 'ann', tenant: 'acme', exp: now - 31 }, SECRET);
    expect((await refusal(expired)).message).toMatch(/expired at/);
    const justExpired = await sign({ sub: 'ann', tenant: 'acme', exp: now - 10 }, SECRET);
    expect(await authenticate(withToken(justExpired))).toMatchObject({ tenant: 'acme' });
    const strict = jwtAuthentication({
      secret: SECRET,
      clockToleranceSeconds: 0,
      now: () => NOW_MS,
    });
    expect((await refusal(justExpired, strict)).message).toMatch(/expired/);
  });

  it('refuses a token whose nbf is in the future', async () => {
    const early = await sign(
      { sub: 'ann', tenant: 'acme', exp: now + 600, nbf: now + 120 },
      SECRET,
    );
    expect((await refusal(early)).message).toMatch(/not valid before/);
  });

  it('refuses alg none, another algorithm, a wrong secret and a tampered payload', async () => {
    const header = base64url(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    const payload = base64url(JSON.stringify({ sub: 'ann', tenant: 'acme', exp: now + 60 }));
    expect((await refusal(`${header}.${payload}.`)).message).toMatch(/not valid/);
    const hs512 = await sign({ sub: 'ann', tenant: 'acme', exp: now + 60 }, SECRET, 'HS512');
    expect((await refusal(hs512)).message).toMatch(/not valid/);
    const wrongSecret = await sign({ sub: 'ann', tenant: 'acme', exp: now + 60 }, 'guessed');
    expect((await refusal(wrongSecret)).message).toMatch(/not valid/);
    const [head, , signature] = (
      await sign({ sub: 'ann', tenant: 'acme', exp: now + 60 }, SECRET)
    ).split('.');
    const other = base64url(JSON.stringify({ sub: 'ann', tenant: 'evil', exp: now + 60 }));
    expect((await refusal(`${head}.${other}.${signature}`)).message).toMatch(/not valid/);
  });

  it('checks times only after the signature: an unsigned expired token says "not valid"', async () => {
    const forged = await sign({ sub: 'ann', tenant: 'acme', exp: now - 999 }, 'guessed');
    expect((await refusal(forged)).message).toMatch(/signature/);
  });

  it('refuses a token without sub or tenant, and a missing bearer token', async () => {
    const noTenant = await sign({ sub: 'ann', exp: now + 60 }, SECRET);
    expect((await refusal(noTenant)).message).toMatch(/"tenant"/);
    const error = await Promise.resolve(authenticate(new Request('http://localhost/'))).catch(
      (thrown: unknown) => thrown,
    );
    expect(isStrataError(error, 'UNAUTHORIZED')).toBe(true);
  });
});

describe('jwtAuthentication: verified tokens are kept (issue 16)', () => {
  const subtleVerify = () => vi.spyOn(crypto.subtle, 'verify');

  it('verifies a token once, then answers from what it kept', async () => {
    const spy = subtleVerify();
    try {
      const auth = jwtAuthentication({ secret: SECRET, now: () => NOW_MS });
      const token = await sign({ sub: 'ann', tenant: 'acme', exp: now + 60 }, SECRET);
      for (let i = 0; i < 5; i++) {
        expect(await auth(withToken(token))).toMatchObject({ tenant: 'acme', subject: 'ann' });
      }
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  it('still checks the times of a kept token on every request, and drops it once expired', async () => {
    let clock = NOW_MS;
    const auth = jwtAuthentication({ secret: SECRET, clockToleranceSeconds: 0, now: () => clock });
    const token = await sign({ sub: 'ann', tenant: 'acme', exp: now + 60 }, SECRET);
    expect(await auth(withToken(token))).toMatchObject({ tenant: 'acme' });
    clock = NOW_MS + 61_000;
    expect((await refusal(token, auth)).message).toMatch(/expired/);
    clock = NOW_MS;
    const spy = subtleVerify();
    try {
      // Dropped when it was refused: verified again, not served from the cache.
      expect(await auth(withToken(token))).toMatchObject({ tenant: 'acme' });
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  it('a kept token does not vouch for a tampered copy, and forged tokens are never kept', async () => {
    const auth = jwtAuthentication({ secret: SECRET, now: () => NOW_MS });
    const token = await sign({ sub: 'ann', tenant: 'acme', exp: now + 60 }, SECRET);
    await auth(withToken(token));
    const [header, , signature] = token.split('.');
    const claims = base64url(JSON.stringify({ sub: 'ann', tenant: 'evil', exp: now + 60 }));
    expect((await refusal(`${header}.${claims}.${signature}`, auth)).message).toMatch(/signature/);
    const forged = await sign({ sub: 'ann', tenant: 'acme', exp: now + 60 }, 'guessed');
    expect((await refusal(forged, auth)).message).toMatch(/signature/);
    expect((await refusal(forged, auth)).message).toMatch(/signature/);
  });

  it('keeps at most verifiedTokenCacheSize tokens (0 verifies every request)', async () => {
    const spy = subtleVerify();
    try {
      const none = jwtAuthentication({
        secret: SECRET,
        now: () => NOW_MS,
        verifiedTokenCacheSize: 0,
      });
      const token = await sign({ sub: 'ann', tenant: 'acme', exp: now + 60 }, SECRET);
      await none(withToken(token));
      await none(withToken(token));
      expect(spy).toHaveBeenCalledTimes(2);
      spy.mockClear();
      const two = jwtAuthentication({
        secret: SECRET,
        now: () => NOW_MS,
        verifiedTokenCacheSize: 2,
      });
      const tokens = await Promise.all(
        ['a', 'b', 'c'].map((sub) => sign({ sub, tenant: 'acme', exp: now + 60 }, SECRET)),
      );
      for (const t of tokens) await two(withToken(t as string));
      expect(spy).toHaveBeenCalledTimes(3);
      // 'a' was the least recently used: it went when 'c' came; 'b' and 'c' are kept.
      await two(withToken(tokens[2] as string));
      await two(withToken(tokens[1] as string));
      expect(spy).toHaveBeenCalledTimes(3);
      await two(withToken(tokens[0] as string));
      expect(spy).toHaveBeenCalledTimes(4);
    } finally {
      spy.mockRestore();
    }
  });
});
