import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase, testPostgres } from '@strata/tooling/postgres/neon';
import { fetchAt, todoEvent } from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectJwksAcceptsAndRefuses,
  type JwksScenario,
  jwksScenarioEnv,
  SCENARIO_AUDIENCE,
  SCENARIO_ISSUER,
  startJwksScenario,
} from '../../test/fixtures/jwks-scenario.ts';
import {
  type SpawnedServer,
  spawnProcess,
  spawnServer,
} from '../../test/fixtures/node/spawn-server.ts';

// Each long-running entry (Node's CLI, bun.ts, deno.ts) started with JWT_JWKS_URL pointing at a
// local "hosted auth" provider (a Node HTTP server serving generated keys), on the tier's
// Postgres: the same accepts and refusals on each, and the database holds only what was accepted.
const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
const binary = (name: string, path: string) =>
  join(dirname(require.resolve(`${name}/package.json`)), path);

const runtimes = [
  {
    name: 'Node',
    command: process.execPath,
    args: ['--import', 'tsx', 'src/node/main.ts'],
  },
  { name: 'Bun', command: binary('bun', 'bin/bun.exe'), args: ['src/runtimes/bun.ts'] },
  {
    name: 'Deno',
    command: binary('deno', 'deno'),
    args: ['run', '--allow-net', '--allow-env', 'src/runtimes/deno.ts'],
  },
];

describe.each(runtimes)('JWKS authentication on $name', ({ name, command, args }) => {
  let db: TestDatabase;
  let scenario: JwksScenario;
  let server: SpawnedServer;
  const baseEnv = () => ({
    DATABASE_URL: db.url,
    NEON_WS_PROXY: `127.0.0.1:${testPostgres().wsProxyPort}`,
    HOST: '127.0.0.1',
    PORT: '0',
  });

  beforeAll(async () => {
    db = await createTestDatabase(`strata_jwks_${name.toLowerCase()}`);
    scenario = await startJwksScenario();
    server = await spawnServer(command, args, {
      cwd: packageDir,
      env: { ...baseEnv(), ...jwksScenarioEnv(scenario) },
    });
  });

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await scenario?.provider.close();
    await db?.drop();
  });

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

  it('accepts rotated keys and refuses wrong issuer, audience, alg and expired tokens', async () => {
    await expectJwksAcceptsAndRefuses(
      scenario,
      fetchAt(server.url),
      `tenant-${name.toLowerCase()}`,
      storedEventIds,
    );
    expect(server.output()).not.toContain('every request is accepted');
  });

  it('does not start with a JWKS URL but no issuer, or with both a secret and a JWKS', async () => {
    for (const [env, message] of [
      [{ JWT_JWKS_URL: scenario.provider.jwksUrl, JWT_AUDIENCE: 'a' }, /without JWT_ISSUER/],
      [
        { ...jwksScenarioEnv(scenario), JWT_SECRET: 'a-secret-of-thirty-two-characters' },
        /Both JWT_SECRET and JWT_JWKS_URL/,
      ],
    ] as const) {
      const started = spawnProcess(command, args, {
        cwd: packageDir,
        env: { ...baseEnv(), ...env },
      });
      const code = await started.exited;
      expect(code, started.output()).not.toBe(0);
      expect(started.output()).toMatch(message);
      expect(started.output()).not.toMatch(/listening on/);
    }
  });

  it('answers 503 problem+json, not 401, once the JWKS host is down, and keeps serving', async () => {
    const tenant = `tenant-${name.toLowerCase()}`;
    const before = await storedEventIds(tenant);
    await scenario.provider.close();
    await new Promise((resolve) => setTimeout(resolve, 1_300)); // the cached key set expires (1 s)
    const token = await scenario.next.sign({
      iss: SCENARIO_ISSUER,
      aud: SCENARIO_AUDIENCE,
      sub: 'user-1',
      org: { id: tenant },
      exp: Math.floor(Date.now() / 1000) + 60,
    });
    const response = await fetch(new URL('/v1/push', server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        clientId: 'jwks-client',
        commits: [{ commitId: 'while-down', events: [todoEvent('todo-while-down', 1)] }],
      }),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.headers.get('retry-after')).toBe('5');
    const problem = (await response.json()) as { code: string; detail: string };
    // The caller gets a generic detail; the provider's URL and answer go to the server's log.
    expect(problem).toMatchObject({
      code: 'UNAVAILABLE',
      detail: "The identity provider's keys could not be fetched; retry",
    });
    expect(JSON.stringify(problem)).not.toContain('127.0.0.1');
    expect(server.output()).toMatch(/key set \(JWKS\) at http:\/\/127\.0\.0\.1.*unreachable/);
    expect((await fetch(new URL('/healthz', server.url))).status).toBe(200);
    expect(await storedEventIds(tenant)).toEqual(before);
  });
});
