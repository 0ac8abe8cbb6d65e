import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase, testPostgres } from '@strata/tooling/postgres/neon';
import {
  bearerToken,
  fetchAt,
  type SyncClient,
  syncClient,
} from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpawnedServer, spawnServer } from '../../test/fixtures/node/spawn-server.ts';
import {
  expectCatchUpThenLive,
  expectPushPullAndConflict,
} from '../../test/fixtures/sync-scenario.ts';

// The same app under Bun and Deno, each run from source by its own tiny entry (bun.ts, deno.ts)
// with the binaries the `bun` and `deno` npm packages install (root devDependencies), on the
// tier's Postgres through the Neon driver (their global WebSocket) and the local proxy.
const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
const binary = (name: string, path: string) =>
  join(dirname(require.resolve(`${name}/package.json`)), path);

const runtimes = [
  { name: 'Bun', command: binary('bun', 'bin/bun.exe'), args: ['src/runtimes/bun.ts'] },
  {
    name: 'Deno',
    command: binary('deno', 'deno'),
    args: ['run', '--allow-net', '--allow-env', 'src/runtimes/deno.ts'],
  },
];

describe.each(runtimes)('the sync server on $name', ({ name, command, args }) => {
  const SECRET = `${name}-secret`;
  let db: TestDatabase;
  let server: SpawnedServer;
  let client: SyncClient;

  beforeAll(async () => {
    db = await createTestDatabase(`strata_${name.toLowerCase()}`);
    server = await spawnServer(command, args, {
      cwd: packageDir,
      env: {
        DATABASE_URL: db.url,
        JWT_SECRET: SECRET,
        NEON_WS_PROXY: `127.0.0.1:${testPostgres().wsProxyPort}`,
        HOST: '127.0.0.1',
        PORT: '0',
      },
    });
    client = syncClient(fetchAt(server.url), { token: await bearerToken(SECRET, 'tenant-x') });
  });

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await db?.drop();
  });

  it('migrates at startup and listens', async () => {
    expect(server.output()).toContain('[strata] applied migrations');
    expect(server.output()).toContain(`sync server (${name}) listening on ${server.url}`);
    expect((await client.raw('/healthz')).status).toBe(200);
    expect((await syncClient(fetchAt(server.url)).raw('/v1/pull')).status).toBe(401);
  });

  it('pushes, pulls, rejects a conflicting commit and streams a subscription', async () => {
    const ids = await expectPushPullAndConflict(client);
    await expectCatchUpThenLive(client, ids); // woken by LISTEN/NOTIFY on a Neon Client
  });

  it('stops gracefully on SIGTERM, ending an open subscription', async () => {
    const subscription = await client.subscribe();
    await subscription.next((messages) => messages.some((message) => message.kind === 'caught-up'));
    const before = Date.now();
    expect(await server.stop('SIGTERM'), server.output()).toBe(0);
    expect(Date.now() - before).toBeLessThan(5_000);
    expect(server.output()).toContain('[strata] sync server stopped');
    await expect(subscription.next(() => false)).rejects.toThrow('the subscription ended');
    subscription.close();
  });
});
