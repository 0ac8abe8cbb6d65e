import { describe, expect, it } from 'vitest';
import { checkTokenTimes, DEFAULT_TOKEN_TIME_POLICY } from './token-times.ts';

const NOW = 1_800_000_000;
const policy = DEFAULT_TOKEN_TIME_POLICY;

describe('checkTokenTimes', () => {
  it('requires exp by default, and not when told so', () => {
    expect(checkTokenTimes({}, NOW, policy)).toMatch(/no "exp"/);
    expect(checkTokenTimes({}, NOW, { ...policy, requireExpiry: false })).toBeUndefined();
  });

  it('accepts a token until exp plus the tolerance', () => {
    expect(checkTokenTimes({ exp: NOW + 1 }, NOW, policy)).toBeUndefined();
    expect(checkTokenTimes({ exp: NOW - 29 }, NOW, policy)).toBeUndefined();
    expect(checkTokenTimes({ exp: NOW - 30 }, NOW, policy)).toMatch(/expired at 2027-/);
    expect(checkTokenTimes({ exp: NOW }, NOW, { ...policy, clockToleranceSeconds: 0 })).toMatch(
      /expired/,
    );
  });

  it('refuses nbf and iat in the future beyond the tolerance, even without exp required', () => {
    const lax = { ...policy, requireExpiry: false };
    expect(checkTokenTimes({ nbf: NOW + 30 }, NOW, lax)).toBeUndefined();
    expect(checkTokenTimes({ nbf: NOW + 31 }, NOW, lax)).toMatch(/not valid before/);
    expect(checkTokenTimes({ exp: NOW + 99, iat: NOW + 31 }, NOW, policy)).toMatch(/future/);
  });

  it.each([
    ['a string exp', { exp: `${NOW + 60}` }],
    ['an infinite exp', { exp: Number.POSITIVE_INFINITY }],
    ['a NaN nbf', { exp: NOW + 60, nbf: Number.NaN }],
    ['an object iat', { exp: NOW + 60, iat: {} }],
  ])('refuses %s', (_label, claims) => {
    expect(checkTokenTimes(claims, NOW, policy)).toMatch(/not a number of seconds/);
  });
});
