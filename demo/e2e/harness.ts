/**
 * Node-side helpers of the demo's e2e test (`src/demo.e2e.test.ts`) and screenshot script: build
 * the app, run its server on a folder of its own, and serve the built files to a page while the
 * server is down. Outside `src/` because they use Node's modules.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NodeServer, NodeServerOptions } from '@strata/edge-server/node';
import { todosOf } from '@strata/example-todo';
import type { BrowserContext } from 'playwright';
import { startDemoServer } from '../server.ts';

const DEMO_DIR = fileURLToPath(new URL('..', import.meta.url));

/** A fresh folder under the OS's temporary folder; `remove()` deletes it. */
export async function tempFolder(
  label: string,
): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `strata-demo-${label}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/**
 * Builds the app with its own Vite config (as `pnpm --filter @strata/demo build` does) into
 * `outDir`, so a test never races another build of `demo/dist`. `version` names the build (the
 * footer shows it): two builds with two names are two deployments.
 */
export function buildDemo(
  outDir: string,
  options: { readonly version?: string } = {},
): Promise<void> {
  const env =
    options.version === undefined
      ? process.env
      : { ...process.env, STRATA_DEMO_VERSION: options.version };
  return new Promise((resolve, reject) => {
    const build = spawn(
      'pnpm',
      ['exec', 'vite', 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
      { cwd: DEMO_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    build.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    build.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    build.once('error', reject);
    build.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`vite build exited with ${code}:\n${output}`)),
    );
  });
}

/**
 * The demo's server on `dataDir`, serving `staticDir`, quiet, for tests. Port 0: any free one.
 * `authenticate` replaces the demo's one anonymous user (e.g. to make requests fail).
 */
export function startTestServer(options: {
  readonly staticDir: string;
  readonly dataDir: string;
  readonly port?: number;
  readonly authenticate?: NodeServerOptions['authenticate'];
}): Promise<NodeServer> {
  return startDemoServer({
    ...(options.authenticate === undefined
      ? {}
      : // Its failures are the test's doing: not reported as the server's.
        { authenticate: options.authenticate, onError: () => undefined }),
    staticDir: options.staticDir,
    dataDir: options.dataDir,
    port: options.port ?? 0,
    hostname: '127.0.0.1',
    env: {},
    handleSignals: false,
    shutdownGraceMs: 0,
    log: () => undefined,
    warn: () => undefined,
  });
}

/** An event as the server stores it (what the tests look at). */
export interface ServerEvent {
  readonly type: string;
  readonly aggregateId: string;
  readonly version: number;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** Every event of the demo user's todos on the server at `url`, read through the sync API. */
export async function serverEvents(url: string): Promise<ServerEvent[]> {
  const scope = todosOf({ userId: 'anonymous' }).key;
  const events: ServerEvent[] = [];
  let after: string | undefined;
  for (;;) {
    const response = await fetch(`${url}/v2/pull`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        scopes: [{ scope, ...(after === undefined ? {} : { after }) }],
        limit: 1000,
      }),
    });
    if (!response.ok) throw new Error(`pull failed: ${response.status} ${await response.text()}`);
    const page = (await response.json()) as {
      items: { kind: string; event?: ServerEvent }[];
      cursors: Record<string, string>;
      hasMore: boolean;
    };
    for (const item of page.items) if (item.event !== undefined) events.push(item.event);
    if (!page.hasMore) return events;
    after = page.cursors[scope];
  }
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
};

/**
 * While the server is down: answers the context's requests for the app's files from `staticDir`
 * (as a browser cache or a service worker would), and lets `/v1/*` and `/v2/*` fail as they do without a
 * server. For the rest of the context's life.
 */
export async function serveFilesWhileDown(
  context: BrowserContext,
  origin: string,
  staticDir: string,
): Promise<void> {
  const matches = (url: URL) => url.origin === origin && !/^\/v[12]\//.test(url.pathname);
  const handler: Parameters<BrowserContext['route']>[1] = async (route) => {
    const { pathname } = new URL(route.request().url());
    const file = normalize(join(staticDir, pathname === '/' ? 'index.html' : pathname));
    if (!file.startsWith(staticDir + sep)) return route.fulfill({ status: 404 });
    try {
      const body = await readFile(file);
      const contentType = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
      return await route.fulfill({ status: 200, body, contentType });
    } catch {
      return await route.fulfill({ status: 404 });
    }
  };
  await context.route(matches, handler);
}
