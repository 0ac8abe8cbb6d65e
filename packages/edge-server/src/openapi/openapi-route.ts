import { Hono } from 'hono';
import { buildOpenApiDocument } from './openapi-document.ts';

/** The document, built once per isolate on first ask: it depends on no app option. */
let document: string | undefined;

/**
 * `GET /openapi.json`: the protocol's OpenAPI 3.1 description (openapi-document.ts), to mount at
 * the root before the API's middleware. No authentication: it describes the protocol, never a
 * tenant or its data.
 *
 * @example
 * app.route('/', openApiRoute());
 */
export function openApiRoute(): Hono {
  const routes = new Hono();
  routes.get('/openapi.json', (c) => {
    document ??= JSON.stringify(buildOpenApiDocument());
    return c.body(document, 200, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'public, max-age=300',
    });
  });
  return routes;
}
