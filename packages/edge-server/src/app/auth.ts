import { UnauthorizedError } from '@strata/core';
import { verify } from 'hono/jwt';

/** Who is calling: every read and write is scoped to `tenant`. */
export interface Principal {
  readonly tenant: string;
  readonly subject: string;
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
}

/**
 * Bearer-token authentication with hono's JWT verification: the token's `sub` is the subject and
 * its tenant claim the tenant.
 *
 * @example
 * createSyncApp({ database, authenticate: jwtAuthentication({ secret: env.JWT_SECRET }) });
 */
export function jwtAuthentication(options: JwtAuthenticationOptions): Authenticate {
  const tenantClaim = options.tenantClaim ?? 'tenant';
  return async (request) => {
    const header = request.headers.get('authorization') ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (token === undefined) throw new UnauthorizedError('A bearer token is required');
    let payload: Record<string, unknown>;
    try {
      payload = await verify(token, options.secret, options.algorithm ?? 'HS256');
    } catch (error) {
      throw new UnauthorizedError('The bearer token is not valid', { cause: error });
    }
    const tenant = payload[tenantClaim];
    const subject = payload.sub;
    if (typeof tenant !== 'string' || tenant === '' || typeof subject !== 'string') {
      throw new UnauthorizedError(`The token needs a "sub" and a "${tenantClaim}" claim`);
    }
    return { tenant, subject };
  };
}

/**
 * Everyone is the same principal of one tenant: for local development and the demo only.
 *
 * @example
 * createSyncApp({ database, authenticate: singleTenant('local') });
 */
export function singleTenant(tenant = 'default'): Authenticate {
  return () => ({ tenant, subject: 'anonymous' });
}
