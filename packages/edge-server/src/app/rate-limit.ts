/**
 * Request rate limits per principal and per client address (issue 12, item 5): a flood from one
 * token or one address answers 429 RATE_LIMITED (with Retry-After) before it reaches the
 * database. In memory, per process (or per Workers isolate): a limit for one instance, not a
 * global quota; put a shared limiter (a gateway, Cloudflare's rate limiting) in front for that.
 *
 * Not hono-rate-limiter: its MemoryStore starts a `setInterval` when the middleware is built,
 * which workerd refuses at global scope and which the Worker entry (one app per request) would
 * start once per request; and it keys one limit per middleware. A bucket map with lazy expiry
 * needs no timer and runs unchanged on Node, workerd, Bun and Deno.
 */
import { RateLimitedError } from '@strata/core';
import type { MiddlewareHandler } from 'hono';
import type { Principal } from './auth.ts';
import {
  checkRateLimitRule,
  isRefilled,
  type RateLimitRule,
  type TokenBucket,
  takeToken,
} from './rate-limit-policy.ts';

/** Settings of `createRequestRateLimiter`; each defaults as `DEFAULT_RATE_LIMITS` says. */
export interface RateLimitSettings {
  /** Per principal (tenant and subject), after authentication. `false`: no limit. */
  readonly perPrincipal: RateLimitRule | false;
  /**
   * Per client address (an IPv6 address counts by its /64), before authentication, so requests
   * with forged tokens count too. Needs the entry point's `clientAddress`. `false`: no limit.
   */
  readonly perAddress: RateLimitRule | false;
  /**
   * Also limit loopback addresses (127.0.0.0/8, ::1). Off by default: on this machine they are
   * the developer, tests, or a reverse proxy speaking for every client (limit by the proxy's
   * header through `clientAddress` then).
   */
  readonly limitLoopback: boolean;
  /** Keys remembered per limit; the least recently seen are forgotten first. */
  readonly maxKeys: number;
}

/**
 * 3,000 requests a minute per principal (50/s sustained, bursts of 3,000), 6,000 a minute per
 * address, loopback not limited, 10,000 keys. A browser client makes a few requests a second at
 * most (pushes are batched, subscriptions are one long request), so only a runaway or hostile
 * client meets these.
 */
export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  perPrincipal: { requests: 3000, windowMs: 60_000 },
  perAddress: { requests: 6000, windowMs: 60_000 },
  limitLoopback: false,
  maxKeys: 10_000,
};

/**
 * The client's network address as the runtime sees it, or undefined when it cannot tell
 * (then no per-address limit applies). `env` is what the runtime passed to `app.fetch`.
 */
export type ClientAddress = (request: Request, env: unknown) => string | undefined;

/** The limits' state: build one per process and share it between apps (the Worker does). */
export interface RequestRateLimiter {
  readonly settings: RateLimitSettings;
  /** Throws RATE_LIMITED when `address` is over its limit. */
  checkAddress(address: string | undefined, now?: number): void;
  /** Throws RATE_LIMITED when `principal` is over its limit. */
  checkPrincipal(principal: Principal, now?: number): void;
}

/**
 * The in-memory limiter.
 *
 * @example
 * const rateLimits = createRequestRateLimiter({ perPrincipal: { requests: 600, windowMs: 60_000 } });
 * createSyncApp({ database, authenticate, rateLimits });
 */
export function createRequestRateLimiter(
  settings: Partial<RateLimitSettings> = {},
): RequestRateLimiter {
  const resolved: RateLimitSettings = { ...DEFAULT_RATE_LIMITS, ...settings };
  if (resolved.perPrincipal !== false) checkRateLimitRule(resolved.perPrincipal, 'perPrincipal');
  if (resolved.perAddress !== false) checkRateLimitRule(resolved.perAddress, 'perAddress');
  if (!Number.isInteger(resolved.maxKeys) || resolved.maxKeys < 1) {
    throw new RangeError('maxKeys must be a whole number of at least 1');
  }
  const principals = resolved.perPrincipal && bucketMap(resolved.perPrincipal, resolved.maxKeys);
  const addresses = resolved.perAddress && bucketMap(resolved.perAddress, resolved.maxKeys);
  return {
    settings: resolved,
    checkAddress(address, now = Date.now()) {
      if (!addresses || address === undefined || address === '') return;
      if (!resolved.limitLoopback && isLoopbackAddress(address)) return;
      const retryAfterMs = addresses.take(addressKey(address), now);
      if (retryAfterMs > 0) {
        throw new RateLimitedError(
          `Too many requests from this address: retry in ${seconds(retryAfterMs)} s`,
          seconds(retryAfterMs),
        );
      }
    },
    checkPrincipal(principal, now = Date.now()) {
      if (!principals) return;
      const retryAfterMs = principals.take(
        JSON.stringify([principal.tenant, principal.subject]),
        now,
      );
      if (retryAfterMs > 0) {
        throw new RateLimitedError(
          `Too many requests for this principal: retry in ${seconds(retryAfterMs)} s`,
          seconds(retryAfterMs),
        );
      }
    },
  };
}

/** Settings, a limiter to share, or `false` (no limits): what `createSyncApp` accepts. */
export type RateLimitsOption = Partial<RateLimitSettings> | RequestRateLimiter | false;

/** The limiter an app uses for its option (undefined: none). */
export function rateLimiterFor(
  option: RateLimitsOption | undefined,
): RequestRateLimiter | undefined {
  if (option === false) return undefined;
  if (option !== undefined && 'checkAddress' in option) return option;
  return createRequestRateLimiter(option);
}

/**
 * Middleware counting each request against its client address (run before authentication).
 *
 * @example
 * app.use('/v1/*', addressRateLimit(limiter, (request) => request.headers.get('cf-connecting-ip') ?? undefined));
 */
export function addressRateLimit(
  limiter: RequestRateLimiter,
  clientAddress: ClientAddress | undefined,
): MiddlewareHandler {
  return async (c, next) => {
    limiter.checkAddress(clientAddress?.(c.req.raw, c.env));
    await next();
  };
}

/**
 * Middleware counting each request against its principal (run after authentication, which sets
 * the `principal` variable).
 *
 * @example
 * app.use('/v1/*', principalRateLimit(limiter));
 */
export function principalRateLimit(
  limiter: RequestRateLimiter,
): MiddlewareHandler<{ Variables: { principal: Principal } }> {
  return async (c, next) => {
    limiter.checkPrincipal(c.get('principal'));
    await next();
  };
}

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopbackAddress(address: string): boolean {
  const plain = address.toLowerCase().replace(/^::ffff:/, '');
  return plain === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(plain);
}

/**
 * The key an address counts under: IPv4 as it is, IPv6 by its /64 (one host usually holds a
 * whole /64, so counting single addresses would let it rotate them).
 */
export function addressKey(address: string): string {
  const plain = address
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/%.*$/, '');
  if (!plain.includes(':') || /^::ffff:\d/.test(plain)) return plain.replace(/^::ffff:/, '');
  const [head = '', tail = ''] = plain.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = plain.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = plain.includes('::')
    ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * Buckets by key, least recently used first, at most `maxKeys` of them (O(1) per request). A new
 * key finds room by forgetting the least recently used bucket only when that one has refilled
 * (forgetting it changes nothing). Otherwise every key is in active use, and the new keys share one
 * overflow bucket: a flood of fresh keys (rotating IPv6 /64s, a botnet) can neither evict the
 * buckets of the clients it competes with nor escape its limit by being forgotten.
 */
function bucketMap(rule: RateLimitRule, maxKeys: number) {
  const buckets = new Map<string, TokenBucket>();
  let overflow: TokenBucket | undefined;
  return {
    /** Takes a token for `key`: 0 when allowed, else the milliseconds to wait. */
    take(key: string, now: number): number {
      const known = buckets.get(key);
      if (known === undefined && buckets.size >= maxKeys) {
        const oldest = buckets.entries().next();
        if (oldest.done !== true && isRefilled(oldest.value[1], rule, now)) {
          buckets.delete(oldest.value[0]);
        } else {
          const decision = takeToken(overflow, rule, now);
          overflow = decision.bucket;
          return decision.allowed ? 0 : decision.retryAfterMs;
        }
      }
      const decision = takeToken(known, rule, now);
      buckets.delete(key); // re-inserted last: the map's order is the order of use
      buckets.set(key, decision.bucket);
      return decision.allowed ? 0 : decision.retryAfterMs;
    },
    get size() {
      return buckets.size;
    },
  };
}
