import { createTestDatabase, type TestDatabase, testPostgres } from '@strata/tooling/postgres/neon';
import { runInWorkerd, type WorkerdHandle } from '@strata/tooling/workerd/run-in-workerd';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectJwksAcceptsAndRefuses,
  type JwksScenario,
  jwksScenarioEnv,
  startJwksScenario,
} from '../../test/fixtures/jwks-scenario.ts';
import { migrate } from '../migrations/migrations.ts';
import { neonDatabase } from '../postgres/neon-database.ts';

// The Workers entry (test-worker.ts) in real workerd, authenticating with tokens from a local
// "hosted auth" provider: its JWKS is served by a Node HTTP server on 127.0.0.1, which the
// worker's fetch reaches through miniflare.
let db: TestDatabase;
let scenario: JwksScenario;
let worker: WorkerdHandle;

async function storedEventIds(tenant: string): Promise<string[]> {
  const pool = db.createPool({ max: 1 });
  try {
    const { rows } = await pool.query<{ id: string }>(
      'SELECT id FROM strata_events WHERE tenant = $1',
      [tenant],
    );
    return rows.map((row) => row.id);
  } finally {
    await pool.end();
  }
}

beforeAll(async () => {
  db = await createTestDatabase('strata_jwks_workerd');
  const pool = db.createPool();
  try {
    await migrate(neonDatabase(pool));
  } finally {
    await pool.end();
  }
  scenario = await startJwksScenario();
  worker = await runInWorkerd({
    entry: new URL('../../test/fixtures/runtimes/test-worker.ts', import.meta.url),
    compatibilityFlags: ['enable_request_signal'],
    bindings: {
      DATABASE_URL: db.url,
      NEON_WS_PROXY: `127.0.0.1:${testPostgres().wsProxyPort}`,
      ...jwksScenarioEnv(scenario),
    },
  });
});

afterAll(async () => {
  await worker?.dispose();
  await scenario?.provider.close();
  await db?.drop();
});

describe('the sync worker in workerd with JWT_JWKS_URL', () => {
  it('accepts rotated keys and refuses wrong issuer, audience, alg and expired tokens', async () => {
    await expectJwksAcceptsAndRefuses(
      scenario,
      (path, init) => worker.fetch(path, init),
      'tenant-workerd',
      storedEventIds,
    );
    // One isolate, one key set: fetched on the first request and on each refresh, not per request.
    expect(scenario.provider.fetches).toBeLessThan(8);
  });

  it('answers 503 problem+json when the JWKS host is down, and does not crash', async () => {
    const down = await startJwksScenario();
    const jwksUrl = down.provider.jwksUrl;
    await down.provider.close();
    const broken = await runInWorkerd({
      entry: new URL('../../test/fixtures/runtimes/test-worker.ts', import.meta.url),
      bindings: {
        DATABASE_URL: db.url,
        NEON_WS_PROXY: `127.0.0.1:${testPostgres().wsProxyPort}`,
        ...jwksScenarioEnv(down),
        JWT_JWKS_URL: jwksUrl,
      },
    });
    try {
      const token = await down.old.sign({
        iss: 'https://idp.strata.test/',
        aud: 'strata-sync',
        sub: 'user-1',
        org: { id: 't' },
        exp: Math.floor(Date.now() / 1000) + 60,
      });
      const response = await broken.fetch('/v1/pull', {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(await response.json()).toMatchObject({
        code: 'UNAVAILABLE',
        detail: "The identity provider's keys could not be fetched; retry",
      });
      expect((await broken.fetch('/healthz')).status).toBe(200); // still serving
    } finally {
      await broken.dispose();
    }
  });

  it('refuses to serve with a JWKS URL but no issuer (misconfiguration), as without any auth', async () => {
    const misconfigured = await runInWorkerd({
      entry: new URL('../../test/fixtures/runtimes/test-worker.ts', import.meta.url),
      bindings: { DATABASE_URL: db.url, JWT_JWKS_URL: scenario.provider.jwksUrl },
    });
    const none = await runInWorkerd({
      entry: new URL('../../test/fixtures/runtimes/test-worker.ts', import.meta.url),
      bindings: { DATABASE_URL: db.url },
    });
    try {
      expect((await misconfigured.fetch('/v1/pull')).status).toBe(500);
      expect((await none.fetch('/v1/pull')).status).toBe(500);
    } finally {
      await misconfigured.dispose();
      await none.dispose();
    }
  });
});
