import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase, testPostgres } from '@strata/tooling/postgres/neon';
import {
  bearerToken,
  commit,
  fetchAt,
  type SyncClient,
  syncClient,
  todoEvent,
} from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type SpawnedServer,
  spawnProcess,
  spawnServer,
} from '../../test/fixtures/node/spawn-server.ts';
import {
  expectCatchUpThenLive,
  expectPushPullAndConflict,
} from '../../test/fixtures/sync-scenario.ts';
import { MIGRATIONS } from '../migrations/migrations.ts';
import { type NodeServer, startNodeServer } from './server.ts';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
/** `pnpm start` / `pnpm migrate`, minus pnpm and tsx's own process: signals reach the server. */
const cli = (...args: string[]) =>
  [process.execPath, ['--import', 'tsx', 'src/node/main.ts', ...args]] as const;

describe('the Node server on PGlite in a data folder (CLI, restarted)', () => {
  let dataDir: string;
  let server: SpawnedServer | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'strata-node-'));
  });

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  const start = async () => {
    const [node, args] = cli('--port', '0', '--data-dir', dataDir);
    server = await spawnServer(node, args, { cwd: packageDir });
    return syncClient(fetchAt(server.url));
  };

  it('migrates the folder with `migrate`, then serves, stops on SIGTERM and keeps the data', async () => {
    const [node, args] = cli('migrate', '--data-dir', dataDir);
    const migration = spawnProcess(node, args, { cwd: packageDir });
    expect(await migration.exited, migration.output()).toBe(0);
    expect(migration.output()).toContain(
      `PGlite in ${dataDir}: applied migrations ${MIGRATIONS.map((m) => m.version).join(', ')}`,
    );

    let client = await start();
    const first = server?.output() ?? '';
    expect(first).toContain('JWT_SECRET is not set');
    expect(first).toContain('schema is up to date');
    expect(first).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+ \(PGlite in /);
    const ids = await expectPushPullAndConflict(client);
    expect(await server?.stop('SIGTERM'), server?.output()).toBe(0);
    expect(server?.output()).toContain('sync server stopped');

    client = await start();
    expect((await client.pullAll()).map((event) => event.id)).toEqual(ids);
    const { results } = await client.push(commit('stale', todoEvent('todo-a', 2)));
    expect(results).toEqual([
      expect.objectContaining({ status: 'rejected', code: 'VERSION_CONFLICT', currentVersion: 2 }),
    ]);
    await expectCatchUpThenLive(client, ids, 'after-restart');
  }, 90_000); // three PGlite process starts, each several seconds on a loaded machine

  it('stops promptly on SIGINT while a subscription is open', async () => {
    // The server the previous test restarted, still running.
    const client = server === undefined ? await start() : syncClient(fetchAt(server.url));
    const subscription = await client.subscribe();
    await subscription.next((messages) => messages.some((message) => message.kind === 'caught-up'));
    const before = Date.now();
    expect(await server?.stop('SIGINT'), server?.output()).toBe(0);
    expect(Date.now() - before).toBeLessThan(5_000);
    await expect(subscription.next(() => false)).rejects.toThrow();
    subscription.close();
  });
});

describe('the Node server on Postgres through the Neon driver (in process)', () => {
  const SECRET = 'node-test-secret';
  let db: TestDatabase;
  let server: NodeServer;
  let client: SyncClient;
  const log: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('strata_node');
    server = await startNodeServer({
      port: 0,
      hostname: '127.0.0.1',
      databaseUrl: db.url,
      jwtSecret: SECRET,
      // Only what a deployment would set besides the options: the local proxy to the tier's Postgres.
      env: { NEON_WS_PROXY: `127.0.0.1:${testPostgres().wsProxyPort}` },
      handleSignals: false,
      log: (line) => log.push(line),
      warn: (line) => log.push(line),
    });
    client = syncClient(fetchAt(server.url), { token: await bearerToken(SECRET, 'tenant-n') });
  });

  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  it('migrates at startup and prints where it listens', () => {
    expect(server.migrated).toEqual(MIGRATIONS.map((migration) => migration.version));
    expect(log.join('\n')).toContain(`listening on ${server.url} (Postgres postgres://`);
    expect(log.join('\n')).not.toContain('JWT_SECRET is not set');
  });

  it('requires a bearer token', async () => {
    expect((await syncClient(fetchAt(server.url)).raw('/v1/pull')).status).toBe(401);
  });

  it('pushes, pulls and rejects a conflicting commit, then streams a subscription', async () => {
    const ids = await expectPushPullAndConflict(client);
    await expectCatchUpThenLive(client, ids); // woken by LISTEN/NOTIFY on a Neon Client
  });

  it('closes the server and every database connection', async () => {
    await server.close();
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    const pool = db.createPool({ max: 1 });
    try {
      const { rows } = await pool.query<{ count: string }>(
        'SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [db.name],
      );
      expect(Number(rows[0]?.count)).toBe(0);
    } finally {
      await pool.end();
    }
  });
});
