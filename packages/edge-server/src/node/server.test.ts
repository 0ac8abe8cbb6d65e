import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Todo, todoScopes, todosOf } from '@strata/example-todo';
import { commit, fetchAt, syncClient, todoEvent } from '@strata/tooling/sync/sync-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { useMigratedPglite } from '../../test/fixtures/migrated-pglite.ts';
import { createOutboxRelay } from '../outbox/outbox-relay.ts';
import { outboxWriter } from '../outbox/outbox-writer.ts';
import { type NodeServer, startNodeServer } from './server.ts';

// `startNodeServer` on PGlite: `staticDir` (a built web app and the sync API on one origin, the
// way the demo runs; PGlite in memory, the files in a temporary folder) and a data folder that
// does not exist yet.

const INDEX = '<!doctype html><title>app</title>';
const SECRET = 'not for the web';

// Loaded from the run's dump (about a second) rather than initdb (seconds); the given-PGlite
// path is what the main server runs on, the `memory://` path is the background-task test's.
const pglite = useMigratedPglite();
let folder: string;
let server: NodeServer;

const quiet = { handleSignals: false, log: () => undefined, warn: () => undefined } as const;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'strata-static-'));
  const files: Record<string, string> = {
    'site/index.html': INDEX,
    'site/assets/app-1a2b.js': 'console.log("app");',
    'site/assets/app-1a2b.css': 'body { margin: 0 }',
    'site/favicon.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
    'site/manifest.json': '{}',
    'site/logo.png': '\x89PNG',
    'site/docs/index.html': '<p>docs</p>',
    // Files named like API routes: the API must still answer.
    'site/healthz': 'shadow',
    'site/v1/pull': 'shadow',
    'site/v2/pull': 'shadow',
    'site/openapi.json': 'shadow',
    // Hidden: a build stamp, secrets, a repository; and what the web does publish.
    'site/.build-inputs.json': SECRET,
    'site/.env': SECRET,
    'site/.git/config': SECRET,
    'site/assets/.cache/x.js': SECRET,
    'site/.well-known/security.txt': 'Contact: mailto:security@example.com',
    // Outside the served folder.
    'secret.txt': SECRET,
    'site-other/secret.txt': SECRET,
  };
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(folder, path)), { recursive: true });
    await writeFile(join(folder, path), text);
  }
  server = await startNodeServer({
    ...quiet,
    port: 0,
    hostname: '127.0.0.1',
    pglite: pglite(),
    aggregates: [Todo],
    authority: { Todo: 'events' },
    staticDir: join(folder, 'site'),
  });
}, 30_000);

afterAll(async () => {
  await server?.close();
  await rm(folder, { recursive: true, force: true });
});

const get = (path: string, init?: RequestInit) => fetch(new URL(path, server.url), init);

/** Sends `path` byte for byte (fetch would normalise `..` and `%2e` away first). */
function rawGet(path: string): Promise<{ status: number; text: string }> {
  const { port } = server;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    });
    let response = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      response += chunk;
    });
    socket.on('error', reject);
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
      resolve({ status, text: response });
    });
  });
}

describe('startNodeServer with staticDir', () => {
  it('serves index.html at / and at a folder path', async () => {
    for (const path of ['/', '/index.html']) {
      const response = await get(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(await response.text()).toBe(INDEX);
    }
    const docs = await get('/docs/');
    expect(docs.status).toBe(200);
    expect(await docs.text()).toBe('<p>docs</p>');
  });

  it('answers each file with its content type, and HEAD without a body', async () => {
    const types: Record<string, string> = {
      '/assets/app-1a2b.js': 'text/javascript; charset=utf-8',
      '/assets/app-1a2b.css': 'text/css; charset=utf-8',
      '/favicon.svg': 'image/svg+xml; charset=utf-8',
      '/logo.png': 'image/png',
      '/manifest.json': 'application/json',
    };
    for (const [path, type] of Object.entries(types)) {
      const response = await get(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toBe(type);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      await response.arrayBuffer();
    }
    const head = await get('/assets/app-1a2b.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String('console.log("app");'.length));
    expect(await head.text()).toBe('');
  });

  it('answers a missing file, or another method, with the API’s 404 problem', async () => {
    for (const [path, method] of [
      ['/missing.js', 'GET'],
      ['/assets/', 'GET'], // a folder without index.html
      ['/', 'POST'],
      ['/index.html', 'DELETE'],
    ] as const) {
      const response = await get(path, { method });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(await response.json()).toMatchObject({ code: 'NOT_FOUND' });
    }
  });

  it('leaves /healthz, /openapi.json, /v1/* and /v2/* to the API, even where a file has that name', async () => {
    const description = await get('/openapi.json');
    expect(await description.json()).toMatchObject({ openapi: expect.stringMatching(/^3\.1/) });
    const scoped = await get('/v2/pull', { method: 'POST' });
    expect(scoped.headers.get('content-type')).toBe('application/problem+json');
    const health = await get('/healthz');
    expect(health.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await health.json()).toEqual({ ok: true });

    const client = syncClient(fetchAt(server.url));
    const event = todoEvent('todo-static', 1);
    const { results } = await client.push(commit('c-static', event));
    expect(results).toEqual([expect.objectContaining({ status: 'accepted' })]);
    expect((await client.pullAll()).map((stored) => stored.id)).toEqual([event.id]);

    const unknown = await get('/v1/nothing-here');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('never serves a dotfile or a dot-folder’s file, except under /.well-known/', async () => {
    for (const path of [
      '/.build-inputs.json',
      '/.env',
      '/.git/config',
      '/assets/.cache/x.js',
      '/%2eenv',
      '/.git%2fconfig',
    ]) {
      const { status, text } = await rawGet(path);
      expect(text, path).not.toContain(SECRET);
      expect([400, 404], `${path}: ${status}`).toContain(status);
    }
    const wellKnown = await get('/.well-known/security.txt');
    expect(wellKnown.status).toBe(200);
    expect(await wellKnown.text()).toContain('Contact:');
  });

  it('never serves a file outside the folder', async () => {
    for (const path of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E%2Fsecret.txt',
      '/..%2fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/..\\secret.txt',
      '//secret.txt',
      `/${'..%2f'.repeat(8)}etc/passwd`,
      '/../site-other/secret.txt',
      '/%2e%2e/site-other/secret.txt',
      `/${encodeURIComponent(join(folder, 'secret.txt'))}`,
    ]) {
      const { status, text } = await rawGet(path);
      expect(text, path).not.toContain(SECRET);
      expect(text, path).not.toContain('root:');
      expect([400, 404], `${path}: ${status}`).toContain(status);
    }
    // The control: the server does answer raw requests.
    expect((await rawGet('/index.html')).text).toContain(INDEX);
  });

  it('refuses to start on a folder without index.html', async () => {
    await expect(
      startNodeServer({ ...quiet, port: 0, pglite: pglite(), staticDir: folder }),
    ).rejects.toThrow(/has no index\.html/);
  });
});

describe('startNodeServer on a given PGlite', () => {
  it('serves it, ignores DATABASE_URL and the data folder, and leaves it open when closed', async () => {
    const given = await startNodeServer({
      ...quiet,
      port: 0,
      hostname: '127.0.0.1',
      pglite: pglite(),
      // Neither is used: a URL that cannot connect, a folder that must not be created.
      env: {
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
        STRATA_DATA_DIR: join(folder, 'unused'),
      },
    });
    try {
      const pushed = await syncClient(fetchAt(given.url)).push(
        commit('c-given', todoEvent('given', 1)),
      );
      expect(pushed.results).toMatchObject([{ status: 'accepted' }]);
    } finally {
      await given.close();
    }
    await expect(stat(join(folder, 'unused'))).rejects.toThrow(/ENOENT/);
    // Still open and holding the pushed event: the caller closes it.
    const { rows } = await pglite().query<{ aggregate_id: string }>(
      `SELECT aggregate_id FROM strata_events WHERE aggregate_id = 'given'`,
    );
    expect(rows).toEqual([{ aggregate_id: 'given' }]);
  }, 30_000);
});

describe('startNodeServer with scopes', () => {
  it('places the todos stored before the scopes were declared in them at startup', async () => {
    // A server without scopes stores a todo (its owner stamped: `anonymous`, no sign-in).
    const before = await startNodeServer({
      ...quiet,
      port: 0,
      hostname: '127.0.0.1',
      pglite: pglite(),
    });
    try {
      await syncClient(fetchAt(before.url)).push(commit('c-before', todoEvent('before-scopes', 1)));
    } finally {
      await before.close();
    }
    const lines: string[] = [];
    const scoped = await startNodeServer({
      ...quiet,
      log: (line) => lines.push(line),
      port: 0,
      hostname: '127.0.0.1',
      pglite: pglite(),
      aggregates: [Todo],
      authority: { Todo: 'events' },
      scopes: {
        definitions: [todosOf],
        membership: [todoScopes],
        rules: { todosOf: (principal, { userId }) => principal.subject === userId },
      },
    });
    try {
      // This file's PGlite holds the other tests' todos too.
      expect(lines.some((line) => /^\[strata\] placed \d+ stored aggregates/.test(line))).toBe(
        true,
      );
      const response = await fetch(`${scoped.url}/v2/pull`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ scopes: [{ scope: todosOf({ userId: 'anonymous' }).key }] }),
      });
      const page = (await response.json()) as { items: { event: { aggregateId: string } }[] };
      expect(page.items.map((item) => item.event.aggregateId)).toContain('before-scopes');
    } finally {
      await scoped.close();
    }
  }, 30_000);
});

describe('startNodeServer background tasks', () => {
  it('runs them on its database beside the API and stops them before the database closes', async () => {
    const delivered: string[] = [];
    const stops: string[] = [];
    const withRelay = await startNodeServer({
      ...quiet,
      port: 0,
      hostname: '127.0.0.1',
      dataDir: 'memory://',
      appendHooks: [outboxWriter([{ destination: 'audit', accepts: ['TodoAdded'] }])],
      background: ({ database }) => {
        const relay = createOutboxRelay({
          database,
          pollIntervalMs: 10,
          sinks: { audit: (message) => void delivered.push(message.event.aggregateId) },
        });
        return [
          {
            start: () => relay.start(),
            async stop() {
              await relay.stop();
              // Still open: stopping comes first.
              const { rows } = await database.query('SELECT 1 AS open');
              stops.push(JSON.stringify(rows));
            },
          },
        ];
      },
    });
    try {
      const client = syncClient(fetchAt(withRelay.url));
      await client.push(commit('c-audit', todoEvent('audited', 1)));
      await vi.waitFor(() => expect(delivered).toEqual(['audited']), { timeout: 10_000 });
    } finally {
      await withRelay.close();
    }
    expect(stops).toEqual(['[{"open":1}]']);
  }, 30_000);
});
