/**
 * Serves an e2e test page (`test-app.ts` by default, or another page script such as
 * `sync-app.ts`, bundled once with esbuild for the browser) and its index.html from a static
 * HTTP server on 127.0.0.1 and a free port, for `*.e2e.test.ts` files. Runs in Node.
 */
import { createServer } from 'node:http';
import { build } from 'esbuild';

/** The path of the bundled page script (whichever entry was bundled). */
export const SCRIPT_PATH = '/test-app.js';

/** The page: no favicon request, one module script. */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <link rel="icon" href="data:," />
    <title>strata e2e</title>
    <script type="module" src="${SCRIPT_PATH}"></script>
  </head>
  <body></body>
</html>
`;

export interface TestAppServer {
  /** e.g. `http://127.0.0.1:41234` */
  readonly origin: string;
  /** The bundled page script. */
  readonly script: string;
  /**
   * The page's URL for a database (`db`) and the page's other query parameters (`retries` for
   * `test-app.ts`; `server` for `sync-app.ts`). Undefined parameters are left out.
   */
  url(params: PageParams): string;
  /** Every request the server answered, as `METHOD /path?query`, in order. */
  readonly requests: readonly string[];
  /**
   * Serves another page script from now on, on the same origin (so the same IndexedDB): a new
   * deployment of the app, which pages get when they load again.
   */
  deploy(entry: URL): Promise<void>;
  close(): Promise<void>;
}

/** The query parameters of a test page: `db` always, the rest as the page reads them. */
export interface PageParams {
  readonly db: string;
  readonly [name: string]: string | number | undefined;
}

/** Which page script to serve. */
export interface ServeTestAppOptions {
  /** The page script's file URL. Defaults to `test-app.ts` beside this file. */
  readonly entry?: URL;
}

const DEFAULT_ENTRY = new URL('./test-app.ts', import.meta.url);

/** Bundles a page script (`test-app.ts` by default) for the browser (ES module, one file). */
export async function bundleTestApp(entryUrl: URL = DEFAULT_ENTRY): Promise<string> {
  const entry = decodeURIComponent(entryUrl.pathname);
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // React's entry reads process.env.NODE_ENV (the devtools page renders with React).
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error(`esbuild produced no output for ${entry}`);
  return output.text;
}

/** Bundles the page script and starts serving it; `close()` stops the server. */
export async function serveTestApp(options: ServeTestAppOptions = {}): Promise<TestAppServer> {
  let script = await bundleTestApp(options.entry);
  const requests: string[] = [];

  const server = createServer((request, response) => {
    const method = request.method ?? 'GET';
    const target = request.url ?? '/';
    requests.push(`${method} ${target}`);
    const path = target.split('?')[0];
    const noStore = { 'cache-control': 'no-store' };
    if (method !== 'GET' && method !== 'HEAD') {
      response.writeHead(405, { ...noStore, allow: 'GET, HEAD' });
      response.end();
    } else if (path === '/' || path === '/index.html') {
      response.writeHead(200, { ...noStore, 'content-type': 'text/html; charset=utf-8' });
      response.end(method === 'HEAD' ? undefined : INDEX_HTML);
    } else if (path === SCRIPT_PATH) {
      response.writeHead(200, { ...noStore, 'content-type': 'text/javascript; charset=utf-8' });
      response.end(method === 'HEAD' ? undefined : script);
    } else {
      response.writeHead(404, { ...noStore, 'content-type': 'text/plain; charset=utf-8' });
      response.end('not found');
    }
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error(`unexpected server address ${String(address)}`));
      } else {
        resolve(address.port);
      }
    });
  });
  const origin = `http://127.0.0.1:${port}`;

  return {
    origin,
    get script() {
      return script;
    },
    requests,
    async deploy(entry) {
      script = await bundleTestApp(entry);
    },
    url: (params) => {
      const query = new URLSearchParams();
      for (const [name, value] of Object.entries(params)) {
        if (value !== undefined) query.set(name, String(value));
      }
      return `${origin}/?${query}`;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}
