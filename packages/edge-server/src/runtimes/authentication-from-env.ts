/**
 * The server's authentication from environment variables, shared by every entry point (Node,
 * Bun, Deno, Workers). Runtime-neutral: callers pass their env (`process.env`, `Bun.env`,
 * `Deno.env.toObject()`, a Workers `env`).
 *
 * Not importing env.ts: its `authenticationFor` delegates here (no import cycle), so the two
 * tiny readers below are this module's own.
 */
import { type Authenticate, jwtAuthentication, singleTenant } from '../app/auth.ts';
import {
  isAllowedJwksUrl,
  JWKS_ALGORITHMS,
  JWKS_LIMITS,
  type JwksAlgorithm,
  jwksAuthentication,
} from '../app/jwks-authentication.ts';

/** The tenant every request gets when no authentication is configured. */
export const SINGLE_TENANT = 'default';

/** The variables `authenticationFromEnv` reads. */
export const AUTHENTICATION_ENV_VARS = [
  'JWT_SECRET',
  'JWT_JWKS_URL',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'JWT_ALGORITHMS',
  'JWT_TENANT_CLAIM',
  'JWT_CLOCK_TOLERANCE_SECONDS',
  'JWT_JWKS_CACHE_MAX_AGE_SECONDS',
  'JWT_JWKS_COOLDOWN_SECONDS',
  'JWT_JWKS_STALE_IF_ERROR_SECONDS',
] as const;

/** Variables that only mean something with a JWKS: set without `JWT_JWKS_URL`, they are a mistake. */
const JWKS_ONLY = [
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'JWT_ALGORITHMS',
  'JWT_JWKS_CACHE_MAX_AGE_SECONDS',
  'JWT_JWKS_COOLDOWN_SECONDS',
  'JWT_JWKS_STALE_IF_ERROR_SECONDS',
] as const;

/** Variables of either kind of token. */
const EITHER = ['JWT_TENANT_CLAIM', 'JWT_CLOCK_TOLERANCE_SECONDS'] as const;

/**
 * - `JWT_JWKS_URL` → tokens from hosted auth (`jwksAuthentication`), with the required
 *   `JWT_ISSUER` and `JWT_AUDIENCE` (comma-separated lists allowed), optional `JWT_ALGORITHMS`
 *   (default `RS256,ES256,EdDSA`), `JWT_JWKS_CACHE_MAX_AGE_SECONDS` (600) and
 *   `JWT_JWKS_COOLDOWN_SECONDS` (30), each from 1 to 86400, and
 *   `JWT_JWKS_STALE_IF_ERROR_SECONDS` (3600, from 0). The URL is https (http only on a loopback
 *   host).
 * - `JWT_SECRET` → HS256 tokens (`jwtAuthentication`).
 * - Either: `JWT_TENANT_CLAIM` (default `tenant`; a dotted path such as `o.id` for JWKS tokens)
 *   and `JWT_CLOCK_TOLERANCE_SECONDS` (default 30, at most 300).
 * - Nothing set → every request is one principal of the tenant `default`, and `warn` is told so
 *   (local development only; the app then answers loopback hosts only, see `authenticatesNobody`).
 *
 * A contradictory or incomplete setting (both a secret and a JWKS URL, a JWKS URL without issuer
 * or audience, `JWT_ISSUER` without a JWKS URL, a bad number or algorithm) throws at startup with
 * a message naming the variable: a server must not start with weaker checks than configured.
 *
 * @example
 * const authenticate = authenticationFromEnv(process.env, console.warn);
 */
export function authenticationFromEnv(
  env: object,
  warn: (message: string) => void = (message) => console.warn(message),
): Authenticate {
  const secret = variable(env, 'JWT_SECRET');
  const jwksUrl = variable(env, 'JWT_JWKS_URL');
  const tenantClaim = variable(env, 'JWT_TENANT_CLAIM');
  const clockToleranceSeconds = seconds(
    env,
    'JWT_CLOCK_TOLERANCE_SECONDS',
    JWKS_LIMITS.clockToleranceSeconds,
  );
  const common = {
    ...(tenantClaim === undefined ? {} : { tenantClaim }),
    ...(clockToleranceSeconds === undefined ? {} : { clockToleranceSeconds }),
  };
  if (secret !== undefined && jwksUrl !== undefined) {
    throw new Error(
      'Both JWT_SECRET and JWT_JWKS_URL are set: choose one (JWT_SECRET for HS256 tokens you ' +
        'sign, JWT_JWKS_URL for tokens from hosted auth).',
    );
  }
  if (jwksUrl !== undefined) return jwksFromEnv(env, jwksUrl, common);
  // Checks configured for a JWKS, or for any token, must not be dropped silently.
  const meaningless = secret === undefined ? [...JWKS_ONLY, ...EITHER] : JWKS_ONLY;
  const stray = meaningless.filter((name) => variable(env, name) !== undefined);
  if (stray.length > 0) {
    throw new Error(
      `${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'} set without JWT_JWKS_URL` +
        `${secret === undefined ? ' or JWT_SECRET' : ''}: set JWT_JWKS_URL (hosted auth), or ` +
        `remove ${stray.length === 1 ? 'it' : 'them'}.`,
    );
  }
  if (secret !== undefined) return jwtAuthentication({ secret, ...common });
  warn(
    `[strata] JWT_SECRET is not set: every request is accepted as tenant "${SINGLE_TENANT}". ` +
      'Local development only; set JWT_SECRET (or JWT_JWKS_URL) before exposing this server.',
  );
  return singleTenant(SINGLE_TENANT);
}

/**
 * Whether `env` configures bearer tokens (`JWT_SECRET` or `JWT_JWKS_URL`): a server that
 * authenticates may listen on all interfaces by default; one that lets everyone in may not.
 *
 * @example
 * tokenAuthenticationInEnv({ JWT_JWKS_URL: 'https://idp.example/jwks.json' }); // true
 */
export function tokenAuthenticationInEnv(env: object): boolean {
  return variable(env, 'JWT_SECRET') !== undefined || variable(env, 'JWT_JWKS_URL') !== undefined;
}

function jwksFromEnv(
  env: object,
  jwksUrl: string,
  common: { tenantClaim?: string; clockToleranceSeconds?: number },
): Authenticate {
  const issuer = list(variable(env, 'JWT_ISSUER'));
  const audience = list(variable(env, 'JWT_AUDIENCE'));
  const missing = [
    ...(issuer.length === 0 ? ['JWT_ISSUER'] : []),
    ...(audience.length === 0 ? ['JWT_AUDIENCE'] : []),
  ];
  if (missing.length > 0) {
    throw new Error(
      `JWT_JWKS_URL is set without ${missing.join(' and ')}: tokens from hosted auth are ` +
        "checked against the provider's issuer (iss) and your API's audience (aud).",
    );
  }
  let url: URL;
  try {
    url = new URL(jwksUrl);
  } catch (cause) {
    throw new Error(`JWT_JWKS_URL is not a URL: ${jwksUrl}`, { cause });
  }
  const algorithms = list(variable(env, 'JWT_ALGORITHMS'));
  const cacheMaxAgeSeconds = seconds(
    env,
    'JWT_JWKS_CACHE_MAX_AGE_SECONDS',
    JWKS_LIMITS.cacheMaxAgeSeconds,
  );
  const cooldownSeconds = seconds(env, 'JWT_JWKS_COOLDOWN_SECONDS', JWKS_LIMITS.cooldownSeconds);
  const staleIfErrorSeconds = seconds(
    env,
    'JWT_JWKS_STALE_IF_ERROR_SECONDS',
    JWKS_LIMITS.staleIfErrorSeconds,
  );
  const unknown = algorithms.filter((alg) => !(JWKS_ALGORITHMS as readonly string[]).includes(alg));
  if (unknown.length > 0) {
    throw new Error(
      `JWT_ALGORITHMS names ${unknown.join(', ')}, which a JWKS cannot verify (no none, no ` +
        `HMAC); allowed: ${JWKS_ALGORITHMS.join(', ')}`,
    );
  }
  if (!isAllowedJwksUrl(url)) {
    throw new Error(
      `JWT_JWKS_URL must be an https:// URL (http:// only on a loopback host), not ${jwksUrl}`,
    );
  }
  return jwksAuthentication({
    jwksUrl: url,
    issuer,
    audience,
    ...common,
    ...(algorithms.length === 0 ? {} : { algorithms: algorithms as JwksAlgorithm[] }),
    ...(cacheMaxAgeSeconds === undefined ? {} : { cacheMaxAgeSeconds }),
    ...(cooldownSeconds === undefined ? {} : { cooldownSeconds }),
    ...(staleIfErrorSeconds === undefined ? {} : { staleIfErrorSeconds }),
  });
}

/** A set, non-blank string variable, trimmed (a Workers `env` also holds non-string bindings). */
function variable(env: object, name: string): string | undefined {
  const value = (env as Record<string, unknown>)[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** A decimal number of seconds in `[least, most]` (no `0x10`, `1e3` or `Infinity`). */
function seconds(
  env: object,
  name: string,
  [least, most]: readonly [number, number],
): number | undefined {
  const value = variable(env, name);
  if (value === undefined) return undefined;
  const number = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!(number >= least && number <= most)) {
    throw new Error(`${name} must be a number of seconds from ${least} to ${most}, not "${value}"`);
  }
  return number;
}

/**
 * `authenticationFromEnv`, built again only when an authentication variable changes: for a
 * Workers isolate, whose bindings come with every request, so the JWKS cache (and the verified
 * tokens) live across its requests instead of being fetched for each.
 *
 * @example
 * const authenticationOf = cachedAuthenticationFromEnv();
 * const authenticate = authenticationOf(env); // the same object while env's JWT_* stay the same
 */
export function cachedAuthenticationFromEnv(): (
  env: object,
  warn?: (message: string) => void,
) => Authenticate {
  let built: { key: string; authenticate: Authenticate } | undefined;
  return (env, warn) => {
    const key = JSON.stringify(AUTHENTICATION_ENV_VARS.map((name) => variable(env, name)));
    if (built?.key !== key) built = { key, authenticate: authenticationFromEnv(env, warn) };
    return built.authenticate;
  };
}
