/**
 * HTTP caching of `GET /v1/pull` pages (docs/production.md, "Pull pages and HTTP caches").
 *
 * A full page (`hasMore`, as many events as asked for, no `count`) lies wholly below the tenant's
 * no-skip horizon: tenant positions are dense and a committed position implies every lower one
 * is committed, so no event can join that range later. Such a page is answered with a strong
 * `ETag` (a SHA-256 of its exact body) and `Cache-Control: private, no-cache`, and a request
 * whose `If-None-Match` names the same ETag gets `304 Not Modified` with no body.
 *
 * Why `no-cache` (revalidate every time) and not `max-age=…, immutable`: the same URL can mean
 * another page after the database is reset or restored from a backup (issue 17). A client that
 * re-bootstraps after LOG_DIVERGED asks for the same URLs again, and an immutable entry would be
 * served from its HTTP cache without reaching the server, so it would read the old log's page
 * and diverge again, until the entry expired. A content hash stays right through any of that
 * (forgotten payloads, revoked reads, a restore): the server answers 304 only for the bytes it
 * would send. `private` and `Vary: Authorization, strata-anchor`: the page is one principal's,
 * filtered by what they may read, and no shared cache may hand it to another.
 */
import type { Context } from 'hono';
import type { SyncEnv } from './sync-env.ts';

/** What a cacheable pull page is answered with (a test reads these; docs/production.md lists them). */
export const PULL_PAGE_CACHE_CONTROL = 'private, no-cache';
export const PULL_PAGE_VARY = 'Authorization, strata-anchor';

/** Whether a pull answer can never change: full, below the horizon, and without a `remaining` count. */
export function isSettledPage(
  page: { readonly hasMore: boolean; readonly events: { readonly length: number } },
  limit: number,
  counted: boolean,
): boolean {
  return page.hasMore && page.events.length === limit && !counted;
}

/** A strong ETag of `text`: the base64url SHA-256 of its UTF-8 bytes, quoted. */
export async function strongEtag(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  const base64 = btoa(String.fromCharCode(...new Uint8Array(digest)));
  return `"${base64.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')}"`;
}

/** Whether an `If-None-Match` value names `etag` (a list, `*`, or weak forms `W/"…"` compare weakly, as RFC 9110 says). */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === etag);
}

/**
 * The answer to a pull: `body` as JSON; for a settled page with its cache headers, or a 304 with
 * no body when the request's `If-None-Match` already names it.
 */
export async function pullPageResponse(
  c: Context<SyncEnv>,
  body: unknown,
  settled: boolean,
): Promise<Response> {
  if (!settled) return c.json(body);
  const text = JSON.stringify(body);
  const etag = await strongEtag(text);
  c.header('ETag', etag);
  c.header('Cache-Control', PULL_PAGE_CACHE_CONTROL);
  c.header('Vary', PULL_PAGE_VARY, { append: true });
  if (matchesIfNoneMatch(c.req.header('if-none-match'), etag)) return c.body(null, 304);
  return c.body(text, 200, { 'Content-Type': 'application/json' });
}
