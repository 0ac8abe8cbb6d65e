/**
 * Bearer tokens from hosted auth (Clerk, Auth0, Supabase, Cognito, any OpenID provider): signed
 * with the provider's private key (RS256, ES256, EdDSA…) and verified against the public keys it
 * publishes at a JWKS URL. The key set is fetched once and cached (jose's `createRemoteJWKSet`); a
 * token whose `kid` is not in it makes it fetch again, so rotated keys are picked up, but at most
 * once per cooldown, so a flood of made-up `kid`s cannot hammer the provider. While the provider
 * cannot be reached, the last key set keeps verifying for `staleIfErrorSeconds` past its age.
 */
import { UnauthorizedError, UnavailableError } from '@strata/core';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import type { Authenticate } from './auth.ts';
import { checkTokenTimes, DEFAULT_TOKEN_TIME_POLICY } from './token-times.ts';
import { verifiedTokens } from './verified-tokens.ts';

/**
 * The signature algorithms a JWKS can verify. No `none` and no HMAC (`HS*`): a shared secret
 * has no place in a public key set, and accepting one is the classic algorithm-confusion hole
 * (an HS256 token "signed" with the public key's bytes).
 */
export const JWKS_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

/** One of `JWKS_ALGORITHMS`. */
export type JwksAlgorithm = (typeof JWKS_ALGORITHMS)[number];

/** What hosted auth signs with, unless `algorithms` says otherwise. */
export const DEFAULT_JWKS_ALGORITHMS: readonly JwksAlgorithm[] = ['RS256', 'ES256', 'EdDSA'];

/** Options of `jwksAuthentication`. */
export interface JwksAuthenticationOptions {
  /** The provider's key set, e.g. `https://<tenant>.auth0.com/.well-known/jwks.json`. */
  readonly jwksUrl: string | URL;
  /** The `iss` the tokens must carry (one of them, when a list). Required: hosted auth always sets it. */
  readonly issuer: string | readonly string[];
  /** The `aud` the tokens must carry (one of them, when a list). Required: hosted auth always sets it. */
  readonly audience: string | readonly string[];
  /** The accepted `alg`s: a token with any other is refused. Defaults to RS256, ES256, EdDSA. */
  readonly algorithms?: readonly JwksAlgorithm[];
  /**
   * The claim that names the tenant, defaulting to `tenant`. A claim of that exact name wins;
   * otherwise dots walk into objects (`o.id` for Clerk's organization, `app_metadata.tenant`).
   * Ignored when `tenant` is given.
   */
  readonly tenantClaim?: string;
  /** The tenant of a verified token's claims, when one claim path is not enough. */
  readonly tenant?: (claims: Readonly<Record<string, unknown>>) => string | undefined;
  /** Refuse tokens without an `exp` claim. Defaults to true. */
  readonly requireExpiry?: boolean;
  /** Seconds of clock skew allowed on `exp`, `nbf` and `iat`, 0 to 300. Defaults to 30. */
  readonly clockToleranceSeconds?: number;
  /** The clock for the token's times, in milliseconds since the epoch (tests). Defaults to `Date.now`. */
  readonly now?: () => number;
  /** Seconds the key set is used before it is fetched again, 1 to 86400. Defaults to 600. */
  readonly cacheMaxAgeSeconds?: number;
  /** Seconds after a fetch during which an unknown `kid` does not fetch again, 1 to 86400. Defaults to 30. */
  readonly cooldownSeconds?: number;
  /**
   * Seconds a key set past `cacheMaxAgeSeconds` keeps verifying while it cannot be fetched again
   * (HTTP's stale-if-error), 0 to 86400: a provider outage is not an outage of the sync server
   * for that long. The price: a key withdrawn during the outage is trusted until it ends or this
   * runs out. 0 answers 503 as soon as the set is too old. Defaults to 3600.
   */
  readonly staleIfErrorSeconds?: number;
  /** Milliseconds a fetch of the key set may take, 1 to 2^31-1. Defaults to 5000. */
  readonly timeoutMs?: number;
  /**
   * Told why the key set could not be fetched (the URL and the provider's answer), once per failed
   * fetch: the 503 the caller gets says only that the keys could not be fetched. Defaults to a
   * line on console.error.
   */
  readonly onProviderError?: (error: Error) => void;
  /** Verified tokens kept so the same token's signature is not checked again. Defaults to 1024. */
  readonly verifiedTokenCacheSize?: number;
}

/**
 * The accepted range of each timing option, inclusive. Cooldown and cache age from 1 s (0 would
 * let every made-up `kid` fetch the key set) to a day (a withdrawn key must stop being trusted);
 * the clock tolerance up to 5 minutes (more would accept long-expired tokens); a fetch timeout up
 * to the longest a timer can wait (Node fires a longer one after 1 ms).
 */
export const JWKS_LIMITS = {
  cooldownSeconds: [1, 86_400],
  cacheMaxAgeSeconds: [1, 86_400],
  staleIfErrorSeconds: [0, 86_400],
  clockToleranceSeconds: [0, 300],
  timeoutMs: [1, 2_147_483_647],
} as const satisfies Record<string, readonly [number, number]>;

/** The 503's detail: what the provider answered is reported (`onProviderError`), not sent. */
const UNAVAILABLE_DETAIL = "The identity provider's keys could not be fetched; retry";

/** Seconds a client is told to wait when the key set cannot be fetched; no fetch is tried meanwhile. */
const UNREACHABLE_RETRY_SECONDS = 5;

/**
 * Bearer-token authentication against a JWKS URL: the signature (with an allowed algorithm and a
 * key from the set), `iss`, `aud`, and `exp`/`nbf`/`iat` (with `clockToleranceSeconds` of slack)
 * are checked; `sub` is the subject and the tenant claim (or `tenant(claims)`) the tenant.
 * Refusals are `UnauthorizedError` (401) saying why; a key set that cannot be fetched or is not a
 * key set is `UnavailableError` (503: the provider, not the token, is at fault; retry).
 *
 * @example
 * createSyncApp({
 *   database,
 *   authenticate: jwksAuthentication({
 *     jwksUrl: 'https://example.eu.auth0.com/.well-known/jwks.json',
 *     issuer: 'https://example.eu.auth0.com/',
 *     audience: 'https://sync.example.com',
 *     tenantClaim: 'https://example.com/tenant',
 *   }),
 * });
 */
export function jwksAuthentication(options: JwksAuthenticationOptions): Authenticate {
  const url = new URL(options.jwksUrl);
  if (!isAllowedJwksUrl(url)) {
    throw new TypeError(
      `jwksUrl must be an https:// URL (http:// only on a loopback host), not ${url.href}`,
    );
  }
  const issuer = nonEmptyList(options.issuer, 'issuer');
  const audience = nonEmptyList(options.audience, 'audience');
  const algorithms = allowedAlgorithms(options.algorithms ?? DEFAULT_JWKS_ALGORITHMS);
  const policy = {
    requireExpiry: options.requireExpiry ?? DEFAULT_TOKEN_TIME_POLICY.requireExpiry,
    clockToleranceSeconds: inRange(
      options.clockToleranceSeconds,
      DEFAULT_TOKEN_TIME_POLICY.clockToleranceSeconds,
      'clockToleranceSeconds',
      JWKS_LIMITS.clockToleranceSeconds,
    ),
  };
  const now = options.now ?? Date.now;
  const tenantOf = options.tenant ?? claimAt(options.tenantClaim ?? 'tenant');
  const tenantName =
    options.tenant === undefined ? `"${options.tenantClaim ?? 'tenant'}"` : 'tenant';
  const remote = createRemoteJWKSet(url, {
    cacheMaxAge:
      inRange(
        options.cacheMaxAgeSeconds,
        600,
        'cacheMaxAgeSeconds',
        JWKS_LIMITS.cacheMaxAgeSeconds,
      ) * 1000,
    cooldownDuration:
      inRange(options.cooldownSeconds, 30, 'cooldownSeconds', JWKS_LIMITS.cooldownSeconds) * 1000,
    timeoutDuration: Math.round(
      inRange(options.timeoutMs, 5000, 'timeoutMs', JWKS_LIMITS.timeoutMs),
    ),
  });
  const staleMs =
    inRange(
      options.staleIfErrorSeconds,
      3600,
      'staleIfErrorSeconds',
      JWKS_LIMITS.staleIfErrorSeconds,
    ) * 1000;
  // When the set was last seen fresh (fetched less than cacheMaxAge before): its age past
  // cacheMaxAge is at most the time since, which is what `staleMs` bounds.
  let freshSeenAt = Number.NEGATIVE_INFINITY;
  const usable = () => remote.fresh || Date.now() - freshSeenAt <= staleMs;
  const report =
    options.onProviderError ?? ((error: Error) => console.error(`[strata] ${error.message}`));
  const verified = verifiedTokens(options.verifiedTokenCacheSize ?? 1024);
  // The key each cached token's signature was verified with (keyed by its claims object, which
  // the cache hands back as it was stored).
  const verifiedWith = new WeakMap<object, unknown>();
  // After a failed fetch, the provider is not asked again for a few seconds: jose keeps no memory
  // of failures, so an outage would be hit by every request. Meanwhile a key set still fresh
  // or stale within staleIfErrorSeconds keeps verifying (`held`: its keys, looked up without
  // fetching; an unknown kid is a 401), and only without one (never fetched, or too old) is
  // every request a 503.
  let unreachable:
    | {
        until: number;
        error: UnavailableError;
        held: ReturnType<typeof createLocalJWKSet> | undefined;
      }
    | undefined;
  // The key lookup, its failures sorted: the token's (no matching key: a 401) from the
  // provider's (a fetch, or a key set that is not one: a 503).
  const keys = async (...args: Parameters<typeof remote>) => {
    if (unreachable !== undefined && Date.now() < unreachable.until) {
      if (unreachable.held === undefined || !usable()) throw unreachable.error;
      return unreachable.held(...args);
    }
    try {
      const key = await remote(...args);
      unreachable = undefined;
      if (remote.fresh) freshSeenAt = Date.now();
      return key;
    } catch (error) {
      const detail = providerFailure(error, url);
      if (detail === undefined) throw error;
      // The details are the operator's; the caller, not yet authenticated, gets a generic 503.
      report(detail);
      const failure = new UnavailableError(UNAVAILABLE_DETAIL, {
        cause: detail,
        retryAfterSeconds: UNREACHABLE_RETRY_SECONDS,
      });
      const jwks = usable() ? remote.jwks() : undefined;
      const held = jwks === undefined ? undefined : createLocalJWKSet(jwks);
      unreachable = { until: Date.now() + UNREACHABLE_RETRY_SECONDS * 1000, error: failure, held };
      // The fetch was for a kid not in a fresh set (that token's key is unknown: a 401), or to
      // renew a set gone stale, whose keys still serve.
      if (held !== undefined) return held(...args);
      throw failure;
    }
  };

  return async (request) => {
    const header = request.headers.get('authorization') ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (token === undefined) throw new UnauthorizedError('A bearer token is required');
    let payload = verified.get(token);
    if (payload !== undefined) {
      // The signature was checked before; the key that checked it must still be the one
      // published for the token's kid and alg (the key set is refreshed as it ages). A withdrawn
      // key, or another key under the same kid (or none), means checking the signature again.
      const before = payload;
      const current = await keys(decodeProtectedHeader(token)).catch((error: unknown) => {
        if (error instanceof errors.JWKSMultipleMatchingKeys) return undefined;
        verified.delete(token);
        return refusal(error);
      });
      if (current === undefined || current !== verifiedWith.get(before)) {
        verified.delete(token);
        payload = undefined;
      }
    }
    if (payload === undefined) {
      const result = await verify(token).catch(refusal);
      payload = result.payload;
      verifiedWith.set(payload, result.key);
      verified.set(token, payload);
    }
    const refused = checkTokenTimes(payload, now() / 1000, policy);
    if (refused !== undefined) {
      verified.delete(token);
      throw new UnauthorizedError(refused);
    }
    const tenant = tenantOf(payload);
    const subject = payload.sub;
    if (
      typeof tenant !== 'string' ||
      tenant === '' ||
      typeof subject !== 'string' ||
      subject === ''
    ) {
      throw new UnauthorizedError(`The token needs a "sub" and a ${tenantName} claim`);
    }
    return { tenant, subject, claims: payload };
  };

  async function verify(
    token: string,
  ): Promise<{ payload: Record<string, unknown>; key: unknown }> {
    const { payload, key } = await jwtVerify(token, keys, {
      algorithms: [...algorithms],
      issuer: [...issuer],
      audience: [...audience],
      clockTolerance: policy.clockToleranceSeconds,
      currentDate: new Date(now()),
      ...(policy.requireExpiry ? { requiredClaims: ['exp'] } : {}),
    });
    return { payload: payload as JWTPayload & Record<string, unknown>, key };
  }
}

/** Throws the 401 for a token jose refused (a provider failure passes through as it is). */
function refusal(error: unknown): never {
  if (error instanceof UnavailableError) throw error;
  throw new UnauthorizedError(refusalReason(error), { cause: error });
}

function refusalReason(error: unknown): string {
  if (error instanceof errors.JWTExpired) {
    return (
      checkTokenTimes(error.payload, Number.POSITIVE_INFINITY, {
        requireExpiry: false,
        clockToleranceSeconds: 0,
      }) ?? 'The bearer token expired'
    );
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return 'The bearer token is from another issuer ("iss")';
    if (error.claim === 'aud') return 'The bearer token is for another audience ("aud")';
    if (error.claim === 'exp' && error.reason === 'missing') {
      return 'The bearer token has no "exp" (expiry) claim';
    }
    return `The bearer token's "${error.claim}" claim is not valid: ${error.message}`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return 'The bearer token is signed with an algorithm ("alg") that is not allowed';
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return 'The bearer token is signed with an unknown key: no key of the JWKS matches its "kid" and "alg"';
  }
  if (error instanceof errors.JWKSMultipleMatchingKeys) {
    return 'The bearer token has no "kid" and several keys of the JWKS could have signed it';
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return 'The bearer token is not valid (signature)';
  }
  return 'The bearer token is not valid (format)';
}

/**
 * What went wrong, for the operator, when a failed key lookup is the provider's fault:
 * unreachable, timed out, not 200, not JSON, not a JWK set, a key that does not import.
 * Undefined for the token's own faults (no key matches its `kid` and `alg`).
 */
function providerFailure(error: unknown, url: URL): Error | undefined {
  if (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JOSENotSupported
  ) {
    return undefined;
  }
  const where = `the identity provider's key set (JWKS) at ${url.href}`;
  const options = { cause: error };
  if (error instanceof errors.JWKSInvalid || error instanceof errors.JWKInvalid) {
    return new Error(`Tokens cannot be verified: ${where} is malformed`, options);
  }
  if (error instanceof errors.JWKSTimeout) {
    return new Error(`Tokens cannot be verified: ${where} did not answer in time`, options);
  }
  if (error instanceof errors.JOSEError) {
    // "Expected 200 OK from the JSON Web Key Set HTTP response", "Failed to parse … as JSON"
    return new Error(`Tokens cannot be verified: ${where} failed: ${error.message}`, options);
  }
  // fetch itself failed (connection refused, DNS), or WebCrypto refused a published key.
  return new Error(`Tokens cannot be verified: ${where} is unreachable or unusable`, options);
}

function allowedAlgorithms(list: readonly string[]): readonly JwksAlgorithm[] {
  if (list.length === 0) throw new TypeError('algorithms must name at least one algorithm');
  for (const alg of list) {
    if (!(JWKS_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new TypeError(
        `Algorithm ${alg} cannot be verified with a JWKS; allowed: ${JWKS_ALGORITHMS.join(', ')}`,
      );
    }
  }
  return list as readonly JwksAlgorithm[];
}

function nonEmptyList(value: string | readonly string[], name: string): readonly string[] {
  const list = (typeof value === 'string' ? [value] : value).filter((item) => item.trim() !== '');
  if (list.length === 0) throw new TypeError(`jwksAuthentication needs an ${name}`);
  return list;
}

function inRange(
  value: number | undefined,
  fallback: number,
  name: string,
  [least, most]: readonly [number, number],
): number {
  if (value === undefined) return fallback;
  if (!(value >= least && value <= most)) {
    throw new RangeError(`${name} must be from ${least} to ${most}, got ${value}`);
  }
  return value;
}

/**
 * Whether keys may be fetched from `url`: https, or http on a loopback host (a local provider
 * in development and tests). Keys fetched over plain http from elsewhere could be swapped by
 * anyone on the path, and with them every token's signature.
 *
 * @example
 * isAllowedJwksUrl(new URL('http://127.0.0.1:8080/jwks.json')); // true
 */
export function isAllowedJwksUrl(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  if (url.protocol !== 'http:') return false;
  return (
    url.hostname === 'localhost' || url.hostname === '[::1]' || /^127(\.\d+){3}$/.test(url.hostname)
  );
}

/** Reads `path` from claims: the claim of that exact name, else a dotted walk into objects. */
function claimAt(path: string): (claims: Readonly<Record<string, unknown>>) => unknown {
  return (claims) => {
    if (Object.hasOwn(claims, path)) return claims[path];
    let value: unknown = claims;
    for (const part of path.split('.')) {
      if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) {
        return undefined;
      }
      value = (value as Record<string, unknown>)[part];
    }
    return value;
  };
}
