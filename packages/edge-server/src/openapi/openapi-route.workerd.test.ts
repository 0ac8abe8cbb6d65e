import { readFileSync } from 'node:fs';
import { createTestDatabase, type TestDatabase, testPostgres } from '@strata/tooling/postgres/neon';
import { runInWorkerd, type WorkerdHandle } from '@strata/tooling/workerd/run-in-workerd';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrate } from '../migrations/migrations.ts';
import { neonDatabase } from '../postgres/neon-database.ts';

// The Workers entry in real workerd serves the description too: zod's JSON Schema conversion
// runs in the isolate (no Node API), and what it makes is the committed docs/openapi.json.
let db: TestDatabase;
let worker: WorkerdHandle;

beforeAll(async () => {
  db = await createTestDatabase('strata_workerd_openapi');
  const pool = db.createPool();
  try {
    await migrate(neonDatabase(pool));
  } finally {
    await pool.end();
  }
  worker = await runInWorkerd({
    entry: new URL('../../test/fixtures/runtimes/test-worker.ts', import.meta.url),
    compatibilityFlags: ['enable_request_signal'],
    bindings: {
      DATABASE_URL: db.url,
      JWT_SECRET: 'workerd-openapi-jwt-secret',
      NEON_WS_PROXY: `127.0.0.1:${testPostgres().wsProxyPort}`,
    },
  });
});

afterAll(async () => {
  await worker?.dispose();
  await db?.drop();
});

it('serves GET /openapi.json without a token, the committed document', async () => {
  const response = await worker.fetch('/openapi.json');
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  const committed = JSON.parse(
    readFileSync(new URL('../../../../docs/openapi.json', import.meta.url), 'utf8'),
  );
  expect(await response.json()).toEqual(committed);
  // The API beside it still wants its token.
  expect((await worker.fetch('/v1/pull')).status).toBe(401);
});
