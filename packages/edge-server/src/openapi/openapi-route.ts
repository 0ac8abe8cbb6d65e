import { Hono } from 'hono';
import { matchesIfNoneMatch, strongEtag } from '../app/pull-cache.ts';
import { buildOpenApiDocument } from './openapi-document.ts';

/**
 * The document and its strong ETag, built once per isolate on first ask: it depends on no app
 * option. A promise, so concurrent first requests share one build and one hash.
 */
let built: Promise<{ body: string; etag: string }> | undefined;

/** Caches (and browsers) may keep it for 5 minutes, then revalidate with the ETag. */
const CACHE_CONTROL = 'public, max-age=300';

/**
 * `GET /openapi.json`: the protocol's OpenAPI 3.1 description (openapi-document.ts), to mount at
 * the root before the API's middleware. No authentication: it describes the protocol, never a
 * tenant or its data. Some 260 KB, so it carries a strong ETag and `If-None-Match` naming it is
 * answered 304 with no body.
 *
 * @example
 * app.route('/', openApiRoute());
 */
export function openApiRoute(): Hono {
  const routes = new Hono();
  routes.get('/openapi.json', async (c) => {
    built ??= (async () => {
      const body = JSON.stringify(buildOpenApiDocument());
      return { body, etag: await strongEtag(body) };
    })();
    const { body, etag } = await built;
    const headers = { etag, 'cache-control': CACHE_CONTROL };
    if (matchesIfNoneMatch(c.req.header('if-none-match'), etag)) {
      return c.body(null, 304, headers);
    }
    return c.body(body, 200, { 'content-type': 'application/json; charset=utf-8', ...headers });
  });
  return routes;
}
