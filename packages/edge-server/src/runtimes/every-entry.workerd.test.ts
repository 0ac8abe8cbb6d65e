import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase, testPostgres } from '@strata/tooling/postgres/neon';
import {
  bearerToken,
  commit,
  type FetchLike,
  fetchAt,
  todoEvent,
} from '@strata/tooling/sync/sync-client';
import { runInWorkerd } from '@strata/tooling/workerd/run-in-workerd';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpawnedServer, spawnServer } from '../../test/fixtures/node/spawn-server.ts';
import { migrate } from '../migrations/migrations.ts';
import { neonDatabase } from '../postgres/neon-database.ts';

// Every runtime entry started from the same app definition file (test/fixtures/runtimes/todo-app.ts:
// the sample Todo and Cart): Node through the `strata` bin (`serve --app`), Bun and Deno through
// their entries (`STRATA_APP`), workerd through a Worker entry that imports it. Each on a
// Postgres database of its own, with authentication from its environment (JWT_SECRET). The same
// forged pushes must get the same answers everywhere and leave nothing stored; a good push is
// stored alike, with the identity the token gives.
const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const APP = 'test/fixtures/runtimes/todo-app.ts';
const SECRET = 'every-entry-secret';
const TENANT = 'tenant-e';
const require = createRequire(import.meta.url);
const binary = (name: string, path: string) =>
  join(dirname(require.resolve(`${name}/package.json`)), path);

interface Running {
  readonly fetch: FetchLike;
  stop(): Promise<unknown>;
}

const spawned = (server: SpawnedServer): Running => ({
  fetch: fetchAt(server.url),
  stop: () => server.stop('SIGKILL'),
});

/** Each entry, started on `db` with the environment every runtime reads. */
const entries: Record<string, (db: TestDatabase, env: Record<string, string>) => Promise<Running>> =
  {
    Node: async (_db, env) =>
      spawned(
        await spawnServer(
          process.execPath,
          ['bin/strata.js', 'serve', '--app', APP, '--port', '0', '--host', '127.0.0.1'],
          { cwd: packageDir, env },
        ),
      ),
    Bun: async (_db, env) =>
      spawned(
        await spawnServer(binary('bun', 'bin/bun.exe'), ['src/runtimes/bun.ts'], {
          cwd: packageDir,
          env: { ...env, STRATA_APP: APP, PORT: '0', HOST: '127.0.0.1' },
        }),
      ),
    Deno: async (_db, env) =>
      spawned(
        await spawnServer(
          binary('deno', 'deno'),
          ['run', '--allow-net', '--allow-env', '--allow-read', 'src/runtimes/deno.ts'],
          { cwd: packageDir, env: { ...env, STRATA_APP: APP, PORT: '0', HOST: '127.0.0.1' } },
        ),
      ),
    workerd: async (db, env) => {
      const pool = db.createPool({ max: 1 });
      try {
        await migrate(neonDatabase(pool)); // as `strata migrate` does before a deploy
      } finally {
        await pool.end();
      }
      const worker = await runInWorkerd({
        entry: new URL('../../test/fixtures/runtimes/todo-app-worker.ts', import.meta.url),
        compatibilityFlags: ['enable_request_signal'],
        bindings: env,
      });
      return { fetch: (path, init) => worker.fetch(path, init), stop: () => worker.dispose() };
    },
  };

const names = Object.keys(entries);
const databases = new Map<string, TestDatabase>();
const running = new Map<string, Running>();

beforeAll(async () => {
  // One at a time: four runtimes starting at once on two cores only slow each other down.
  for (const name of names) {
    const db = await createTestDatabase(`strata_entry_${name.toLowerCase()}`);
    databases.set(name, db);
    const env = {
      DATABASE_URL: db.url,
      JWT_SECRET: SECRET,
      NEON_WS_PROXY: `127.0.0.1:${testPostgres().wsProxyPort}`,
    };
    const start = entries[name];
    if (start === undefined) throw new Error(`no entry ${name}`);
    running.set(name, await start(db, env));
  }
}, 180_000);

afterAll(async () => {
  await Promise.allSettled([...running.values()].map((entry) => entry.stop()));
  await Promise.allSettled([...databases.values()].map((db) => db.drop()));
});

/** What a client sees of an answer: status, media type, and the body's codes. */
async function answer(name: string, path: string, body: unknown) {
  const fetch = running.get(name)?.fetch as FetchLike;
  const response = await fetch(path, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await bearerToken(SECRET, TENANT, 'user-e')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as {
    code?: string;
    results?: { commitId: string; status: string; code?: string }[];
  };
  return {
    status: response.status,
    type: response.headers.get('content-type')?.split(';')[0],
    code: json.code,
    results: json.results?.map(({ commitId, status, code }) => ({ commitId, status, code })),
  };
}

/** The events stored in `name`'s database. */
async function stored(name: string) {
  const pool = databases.get(name)?.createPool({ max: 1 });
  if (pool === undefined) throw new Error(`no database for ${name}`);
  try {
    const { rows } = await pool.query(
      `SELECT tenant, aggregate_id AS "aggregateId", data->>'title' AS title,
              metadata->>'userId' AS "userId", metadata->>'tenant' AS "metadataTenant"
       FROM strata_events ORDER BY position`,
    );
    return rows;
  } finally {
    await pool.end();
  }
}

describe('every runtime entry, started from one app definition file', () => {
  it('refuses the same forged pushes with the same answers, and stores nothing', async () => {
    // A Todo whose title is a number: the definition's Todo schema refuses it (a generic app,
    // with no aggregates, would store it).
    const badTitle = {
      clientId: 'forger',
      commits: [commit('bad-title', { ...todoEvent('todo-forged', 1), data: { title: 42 } })],
    };
    // An identity field the server alone sets: a tenant in the event envelope.
    const forgedTenant = {
      clientId: 'forger',
      commits: [
        commit('forged-tenant', {
          ...todoEvent('todo-tenant', 1),
          tenant: 'tenant-victim',
        } as never),
      ],
    };
    // A command the server decides, with input its schema refuses.
    const badCommand = {
      protocol: 2,
      clientId: 'forger',
      commits: [
        {
          commitId: 'bad-command',
          command: {
            aggregateType: 'Cart',
            aggregateId: 'cart-forged',
            name: 'addItem',
            input: { sku: '' },
            issuedAt: new Date().toISOString(),
          },
          events: [],
        },
      ],
    };
    const answers: Record<string, unknown> = {};
    for (const name of names) {
      answers[name] = {
        badTitle: await answer(name, '/v1/push', badTitle),
        forgedTenant: await answer(name, '/v1/push', forgedTenant),
        badCommand: await answer(name, '/v2/push', badCommand),
      };
    }
    const expected = {
      badTitle: {
        status: 200,
        type: 'application/json',
        code: undefined,
        results: [{ commitId: 'bad-title', status: 'rejected', code: 'VALIDATION_FAILED' }],
      },
      // The commit is refused, not the push: strict envelopes are checked per commit.
      forgedTenant: {
        status: 200,
        type: 'application/json',
        code: undefined,
        results: [{ commitId: 'forged-tenant', status: 'rejected', code: 'VALIDATION_FAILED' }],
      },
      badCommand: {
        status: 200,
        type: 'application/json',
        code: undefined,
        results: [{ commitId: 'bad-command', status: 'rejected', code: 'VALIDATION_FAILED' }],
      },
    };
    expect(answers).toEqual(Object.fromEntries(names.map((name) => [name, expected])));
    for (const name of names) expect(await stored(name), name).toEqual([]);
  });

  it('accepts the same good push everywhere, stamped with the token’s identity', async () => {
    for (const name of names) {
      const good = {
        clientId: 'device',
        commits: [
          commit('good', {
            ...todoEvent('todo-good', 1),
            data: { title: 'milk' },
            // Claimed by the client; the server stamps its own.
            metadata: {
              commandId: 'cmd-good',
              userId: 'someone-else',
              tenant: 'tenant-victim',
            } as { commandId: string },
          }),
        ],
      };
      expect(await answer(name, '/v1/push', good), name).toEqual({
        status: 200,
        type: 'application/json',
        code: undefined,
        results: [{ commitId: 'good', status: 'accepted', code: undefined }],
      });
      expect(await stored(name), name).toEqual([
        {
          tenant: TENANT,
          aggregateId: 'todo-good',
          title: 'milk',
          userId: 'user-e',
          metadataTenant: TENANT,
        },
      ]);
    }
  });
});
