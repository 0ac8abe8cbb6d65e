/**
 * Cross-site protection for the API (issue 12, item 7). A browser sends `text/plain`, form and
 * multipart POSTs to any site without a CORS preflight, and a server without JWT (one tenant)
 * trusts whoever reaches it: any page the user opens could write to it, or, through DNS
 * rebinding, read from it. So:
 * - a request with a body must say `application/json` (else 415 UNSUPPORTED_MEDIA_TYPE): that
 *   content type always needs a preflight, which CORS answers only for `corsOrigins`;
 * - a write (POST, PUT, PATCH, DELETE) from a browser page of another origin is refused (403
 *   FORBIDDEN) unless that origin is in `corsOrigins`; `Origin: null` (sandboxed frames, files)
 *   is another origin;
 * - with `checkHost`, the `Host` must be a loopback name or one of `allowedHosts` (403), so a
 *   rebound DNS name pointing at 127.0.0.1 does not reach a server that authenticates no one.
 */
import { ForbiddenError, UnsupportedMediaTypeError } from '@strata/core';
import type { MiddlewareHandler } from 'hono';

/** Options of `requestGuard`. */
export interface RequestGuardOptions {
  /** Origins whose pages may write (the CORS origins). `*` allows every origin. */
  readonly corsOrigins: readonly string[];
  /**
   * Refuse requests whose Host is neither a loopback name (`localhost`, `127.0.0.1`, `[::1]`)
   * nor in `allowedHosts`. On for servers without authentication (`singleTenant`).
   */
  readonly checkHost: boolean;
  /** Host names (with or without port) accepted besides the loopback ones, e.g. `sync.local`. */
  readonly allowedHosts: readonly string[];
}

/** The host names a server without authentication always answers (this machine only). */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const JSON_TYPES = ['application/json'];

/**
 * The guard middleware, to run on `/v1/*` before authentication.
 *
 * @example
 * app.use('/v1/*', requestGuard({ corsOrigins: [], checkHost: true, allowedHosts: [] }));
 */
export function requestGuard(options: RequestGuardOptions): MiddlewareHandler {
  const anyOrigin = options.corsOrigins.includes('*');
  const origins = new Set(options.corsOrigins);
  const hosts = new Set([...LOOPBACK_HOSTS, ...options.allowedHosts].map(normalHost));
  return async (c, next) => {
    const request = c.req.raw;
    const url = new URL(request.url);
    if (options.checkHost && !isAllowedHost(url, hosts)) {
      throw new ForbiddenError(
        `This server answers only for ${[...hosts].join(', ')}, not for the host ${url.host} ` +
          '(set allowedHosts / STRATA_ALLOWED_HOSTS to add one)',
      );
    }
    if (WRITE_METHODS.has(request.method)) {
      const origin = request.headers.get('origin');
      if (origin !== null && !anyOrigin && !origins.has(origin) && !isSameOrigin(origin, url)) {
        throw new ForbiddenError(`Writes from the origin ${origin} are not allowed (CORS origins)`);
      }
      // A browser that sent no Origin still says where the request comes from.
      if (origin === null && request.headers.get('sec-fetch-site') === 'cross-site' && !anyOrigin) {
        throw new ForbiddenError('Cross-site writes are not allowed');
      }
    }
    if (hasBody(request) && !isJson(request.headers.get('content-type'))) {
      throw new UnsupportedMediaTypeError(
        `A request body must be application/json, not ${request.headers.get('content-type') ?? 'untyped'}`,
        JSON_TYPES,
      );
    }
    await next();
  };
}

/** The server's own origin, by host: a TLS-terminating proxy may turn https into http. */
function isSameOrigin(origin: string, url: URL): boolean {
  if (origin === 'null') return false;
  try {
    return new URL(origin).host === url.host;
  } catch {
    return false;
  }
}

function isAllowedHost(url: URL, hosts: ReadonlySet<string>): boolean {
  return hosts.has(normalHost(url.host)) || hosts.has(normalHost(url.hostname));
}

/** Lower case, no trailing dot (`LOCALHOST.` is localhost). */
function normalHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, '').replace(/\.:/, ':');
}

/**
 * Whether the request carries a body, by its framing headers (HTTP/1.1: a body has a length or
 * a transfer coding). A body without a content type (a `Blob` of no type) counts: it is a
 * "simple" cross-site request too.
 */
function hasBody(request: Request): boolean {
  if (request.headers.get('content-type') !== null) return true;
  if (request.headers.get('transfer-encoding') !== null) return true;
  const length = request.headers.get('content-length');
  return length !== null && length.trim() !== '0';
}

/** `application/json`, any parameters (`; charset=utf-8`), any case. */
function isJson(contentType: string | null): boolean {
  if (contentType === null) return false;
  const media = contentType.split(';')[0]?.trim().toLowerCase();
  return media !== undefined && JSON_TYPES.includes(media);
}
