/**
 * Reading a deployment's settings from environment variables, shared by every entry point (Node,
 * Bun, Deno, Workers). Runtime-neutral: no Node built-ins, no `process`; callers pass their env.
 */
import { neonConfig } from '@neondatabase/serverless';
import type { Authenticate } from '../app/auth.ts';
import type { RateLimitSettings } from '../app/rate-limit.ts';
import type { RateLimitRule } from '../app/rate-limit-policy.ts';
import { authenticationFromEnv, SINGLE_TENANT } from './authentication-from-env.ts';

/** Environment variables as a plain record (`process.env`, `Bun.env`, `Deno.env.toObject()`, a Workers `env`). */
export type EnvRecord = Readonly<Record<string, string | undefined>>;

/** The tenant every request gets when no `JWT_SECRET` is configured. */
export { SINGLE_TENANT };

/**
 * A set, non-blank string variable, trimmed; else undefined. `env` may be any object (a Workers
 * `env` also holds non-string bindings).
 */
export function envValue(env: object, name: string): string | undefined {
  const value = (env as Record<string, unknown>)[name];
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  return value.trim();
}

/** `CORS_ORIGINS=https://a.example,https://b.example` as a list (empty when unset). */
export function parseList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** `false`, `0`, `no` and `off` are false; anything else set is true; unset is `fallback`. */
export function parseFlag(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value.trim() === '') return fallback;
  return !['false', '0', 'no', 'off'].includes(value.trim().toLowerCase());
}

/** A TCP port number (0 asks the OS for a free one); throws on anything else. */
export function parsePort(value: string | number | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`Not a TCP port: ${String(value)}`);
  }
  return port;
}

/**
 * JWT (HS256) bearer authentication when a secret is given (`authenticationFromEnv` reads the
 * other settings, JWKS included, from a whole env); otherwise every request is one
 * principal of the tenant `default`, and `warn` is told so (local development only).
 */
export function authenticationFor(
  jwtSecret: string | undefined,
  warn: (message: string) => void,
): Authenticate {
  return authenticationFromEnv({ JWT_SECRET: jwtSecret }, warn);
}

/**
 * Points the Neon driver at a plain-WebSocket proxy in front of a Postgres server, instead of
 * Neon's own TLS endpoint: local Postgres, tests, a self-hosted proxy. `proxy` is
 * `host:port` (the path defaults to `/v1`) or `host:port/path`; a `ws://` prefix is allowed.
 * The driver then connects to `ws://<proxy>?address=<db host>:<db port>` with no TLS inside.
 *
 * Global to the module instance, like `neonConfig` itself: call it once at startup.
 *
 * @example
 * useNeonWsProxy('127.0.0.1:5488'); // NEON_WS_PROXY=127.0.0.1:5488
 */
export function useNeonWsProxy(proxy: string): void {
  const trimmed = proxy.trim().replace(/^ws:\/\//, '');
  if (!/^[^/\s?]+:\d+(\/[^\s?]*)?$/.test(trimmed)) {
    throw new Error(`NEON_WS_PROXY must look like host:port or host:port/path, not "${proxy}"`);
  }
  const base = trimmed.includes('/') ? trimmed : `${trimmed}/v1`;
  neonConfig.wsProxy = (host, port) => `${base}?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
}

/** What `requestPolicyFromEnv` reads: the host allow-list and the rate limits. */
export interface RequestPolicyFromEnv {
  allowedHosts?: string[];
  rateLimits?: Partial<RateLimitSettings>;
}

/**
 * `STRATA_ALLOWED_HOSTS` (comma-separated host names a server without JWT answers besides
 * loopback), `STRATA_RATE_LIMIT_PER_PRINCIPAL` and `STRATA_RATE_LIMIT_PER_ADDRESS` (requests per
 * minute; `off` or `0` for no limit). Unset variables leave the defaults (`DEFAULT_RATE_LIMITS`).
 *
 * @example
 * requestPolicyFromEnv({ STRATA_RATE_LIMIT_PER_PRINCIPAL: '600' });
 * // { rateLimits: { perPrincipal: { requests: 600, windowMs: 60000 } } }
 */
export function requestPolicyFromEnv(env: object): RequestPolicyFromEnv {
  const allowedHosts = parseList(envValue(env, 'STRATA_ALLOWED_HOSTS'));
  const perPrincipal = perMinute(env, 'STRATA_RATE_LIMIT_PER_PRINCIPAL');
  const perAddress = perMinute(env, 'STRATA_RATE_LIMIT_PER_ADDRESS');
  const rateLimits: Partial<RateLimitSettings> = {
    ...(perPrincipal === undefined ? {} : { perPrincipal }),
    ...(perAddress === undefined ? {} : { perAddress }),
  };
  return {
    ...(allowedHosts.length === 0 ? {} : { allowedHosts }),
    ...(Object.keys(rateLimits).length === 0 ? {} : { rateLimits }),
  };
}

function perMinute(env: object, name: string): RateLimitRule | false | undefined {
  const value = envValue(env, name);
  if (value === undefined) return undefined;
  if (value.toLowerCase() === 'off' || value === '0') return false;
  const requests = Number(value);
  if (!Number.isInteger(requests) || requests < 1) {
    throw new Error(`${name} must be a number of requests per minute, or off: ${value}`);
  }
  return { requests, windowMs: 60_000 };
}
