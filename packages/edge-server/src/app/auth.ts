import { UnauthorizedError } from '@strata/core';
import { verify } from 'hono/jwt';
import { checkTokenTimes, DEFAULT_TOKEN_TIME_POLICY } from './token-times.ts';
import { verifiedTokens } from './verified-tokens.ts';

/** Who is calling: every read and write is scoped to `tenant`. */
export interface Principal {
  readonly tenant: string;
  /** The user: stamped as `userId` on every event they write. */
  readonly subject: string;
  /** The verified token's claims, for command rules (`allow`) and `decide`. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/**
 * Turns a request into a principal, or throws `UNAUTHORIZED`. The tenant must come from here,
 * never from the request body.
 */
export type Authenticate = (request: Request) => Principal | Promise<Principal>;

/** Options of `jwtAuthentication`. */
export interface JwtAuthenticationOptions {
  /** HMAC secret (HS256) or public key, as hono's `verify` accepts. */
  readonly secret: string;
  readonly algorithm?: 'HS256' | 'HS384' | 'HS512';
  /** The claim that names the tenant. Defaults to `tenant`. */
  readonly tenantClaim?: string;
  /**
   * Refuse tokens without an `exp` claim: a token that never expires is valid forever once it
   * leaks. Defaults to true.
   */
  readonly requireExpiry?: boolean;
  /** Seconds of clock skew allowed on `exp`, `nbf` and `iat`. Defaults to 30. */
  readonly clockToleranceSeconds?: number;
  /** The clock, in milliseconds since the epoch (tests). Defaults to `Date.now`. */
  readonly now?: () => number;
  /**
   * Verified tokens kept so the same token is not verified again on its next request (its times
   * are still checked every time). Defaults to 1024; 0 verifies every request.
   */
  readonly verifiedTokenCacheSize?: number;
}

/**
 * Bearer-token authentication with hono's JWT verification: the token's `sub` is the subject and
 * its tenant claim the tenant. The token must carry `exp` (unless `requireExpiry: false`); `exp`,
 * `nbf` and `iat` are checked with `clockToleranceSeconds` (30) of slack. Only the configured
 * algorithm is accepted (`alg: none` and other algorithms are refused).
 *
 * @example
 * createSyncApp({ database, authenticate: jwtAuthentication({ secret: env.JWT_SECRET }) });
 */
export function jwtAuthentication(options: JwtAuthenticationOptions): Authenticate {
  const tenantClaim = options.tenantClaim ?? 'tenant';
  const policy = {
    requireExpiry: options.requireExpiry ?? DEFAULT_TOKEN_TIME_POLICY.requireExpiry,
    clockToleranceSeconds:
      options.clockToleranceSeconds ?? DEFAULT_TOKEN_TIME_POLICY.clockToleranceSeconds,
  };
  const now = options.now ?? Date.now;
  const verified = verifiedTokens(options.verifiedTokenCacheSize ?? 1024);
  return async (request) => {
    const header = request.headers.get('authorization') ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (token === undefined) throw new UnauthorizedError('A bearer token is required');
    let payload = verified.get(token);
    if (payload === undefined) {
      try {
        // hono checks the times without tolerance; they are checked below, after the signature.
        payload = await verify(token, options.secret, {
          alg: options.algorithm ?? 'HS256',
          exp: false,
          nbf: false,
          iat: false,
        });
      } catch (error) {
        throw new UnauthorizedError('The bearer token is not valid (signature or format)', {
          cause: error,
        });
      }
      verified.set(token, payload);
    }
    const refused = checkTokenTimes(payload, now() / 1000, policy);
    if (refused !== undefined) {
      verified.delete(token);
      throw new UnauthorizedError(refused);
    }
    const tenant = payload[tenantClaim];
    const subject = payload.sub;
    if (typeof tenant !== 'string' || tenant === '' || typeof subject !== 'string') {
      throw new UnauthorizedError(`The token needs a "sub" and a "${tenantClaim}" claim`);
    }
    return { tenant, subject, claims: payload };
  };
}

/**
 * Everyone is the same principal of one tenant: for local development and the demo only.
 *
 * @example
 * createSyncApp({ database, authenticate: singleTenant('local') });
 */
export function singleTenant(tenant = 'default'): Authenticate {
  const authenticate: Authenticate = () => ({ tenant, subject: 'anonymous' });
  UNAUTHENTICATED.add(authenticate);
  return authenticate;
}

/** The `singleTenant` authenticators: they let anyone in, so the app checks the Host header. */
const UNAUTHENTICATED = new WeakSet<Authenticate>();

/**
 * True for `singleTenant(...)`: every caller is let in, so the app answers only loopback hosts
 * (and `allowedHosts`), against DNS rebinding.
 *
 * @example
 * authenticatesNobody(singleTenant()); // true
 */
export function authenticatesNobody(authenticate: Authenticate): boolean {
  return UNAUTHENTICATED.has(authenticate);
}
