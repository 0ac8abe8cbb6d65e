import { describe, expect, it } from 'vitest';
import { strongEtag } from '../app/pull-cache.ts';
import { openApiRoute } from './openapi-route.ts';

// The document is some 260 KB and asked for without a token: a client (or a cache) that has it
// must be able to revalidate it for a 304 with no body.
describe('GET /openapi.json', () => {
  it('carries a strong ETag of its exact body and Cache-Control: public, max-age=300', async () => {
    const response = await openApiRoute().request('/openapi.json');
    expect(response.status).toBe(200);
    const body = await response.text();
    expect(JSON.parse(body)).toMatchObject({ openapi: expect.stringMatching(/^3\.1/) });
    expect(response.headers.get('etag')).toBe(await strongEtag(body));
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    // The same ETag from another route (the hash is computed once per isolate).
    const again = await openApiRoute().request('/openapi.json');
    expect(again.headers.get('etag')).toBe(response.headers.get('etag'));
  });

  it('answers 304 with no body when If-None-Match names it (in a list, weakly, or *)', async () => {
    const routes = openApiRoute();
    const etag = (await routes.request('/openapi.json')).headers.get('etag') ?? '';
    for (const ifNoneMatch of [etag, `"other", ${etag}`, `W/${etag}`, '*']) {
      const response = await routes.request('/openapi.json', {
        headers: { 'if-none-match': ifNoneMatch },
      });
      expect(response.status, ifNoneMatch).toBe(304);
      expect(await response.text()).toBe('');
      expect(response.headers.get('etag')).toBe(etag);
      expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    }
    const stale = await routes.request('/openapi.json', { headers: { 'if-none-match': '"old"' } });
    expect(stale.status).toBe(200);
    expect((await stale.text()).length).toBeGreaterThan(1000);
  });
});
