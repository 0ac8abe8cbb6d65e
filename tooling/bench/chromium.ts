/**
 * Runs `*.browser.bench.ts` files in real headless Chromium (the OS's, never a downloaded one).
 *
 * A browser bench file has the same shape as a Node one (it default-exports a list of
 * benchmarks made with harness.ts), but it runs in a page: esbuild bundles it with a small entry
 * (platform browser, ESM), a local HTTP server on 127.0.0.1 serves the bundle, and the same
 * harness code (`runAnyBenchmark`) measures subject and baseline in that page, one benchmark per
 * `page.evaluate`. Results come back as JSON and are printed by the runner like Node results.
 *
 * - Each file gets its own persistent profile in a temp folder, removed afterwards: IndexedDB
 *   in an incognito context (Playwright's `browser.newContext()`) lives in memory, which would
 *   flatter every IndexedDB number.
 * - The page is opened at `http://strata-bench.localhost:<port>/`, mapped to 127.0.0.1. It is a
 *   real origin and a secure context (IndexedDB, crypto) that is not `localhost`/`127.0.0.1`:
 *   Dexie switches on its debug mode (an async stack task per operation) on those two, which no
 *   deployed app pays.
 * - The server sends COOP/COEP headers, so the page is cross-origin isolated and
 *   `performance.now()` ticks in 5 µs steps instead of 100 µs.
 * - Node-side set-up (browser-setup.ts): a sibling `x.browser.bench.setup.ts`, when there is one,
 *   is imported and run here, in Node, after the page's server listens (so it knows the page's
 *   origin) and before the page opens; the JSON `params` it returns are inlined into the page
 *   (`benchParams()` reads them) and its `teardown` runs once the browser closed. A page that
 *   calls a server the set-up started (the sync benchmarks) does so cross-origin: the set-up
 *   allows the page's origin through CORS. Cross-origin isolation is no obstacle: COEP
 *   `require-corp` lets CORS requests through; the page's requests pay CORS preflights like
 *   any app whose API is on another origin.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { type BrowserContext, chromium } from 'playwright';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../chromium.ts';
import {
  type BrowserBenchSetup,
  type BrowserBenchSetupFunction,
  paramsScript,
} from './browser-setup.ts';
import type { AnyBenchmarkResult } from './harness.ts';

const HARNESS = join(import.meta.dirname, 'harness.ts');
const HOST = 'strata-bench.localhost';

/** Launch arguments that work as root in a container; plus the host mapping described above. */
const BENCH_CHROMIUM_ARGS = [...CHROMIUM_ARGS, `--host-resolver-rules=MAP ${HOST} 127.0.0.1`];

/** `$CHROMIUM_PATH` or /usr/bin/chromium, if it exists. */
export function findChromium(): string | undefined {
  const path = CHROMIUM_PATH;
  return existsSync(path) ? path : undefined;
}

/** What the bundled entry puts on `globalThis` for the runner. */
interface PageBench {
  readonly names: readonly string[];
  readonly environment: () => string;
  readonly run: (index: number, runs: number | null) => Promise<AnyBenchmarkResult>;
}
type PageGlobal = typeof globalThis & { __strataBench?: PageBench };

/** Bundles a browser bench file with an entry that exposes its benchmarks to the runner. */
export async function bundleBrowserBench(file: string): Promise<string> {
  const entry = `
import benchmarks from ${JSON.stringify(file)};
import { runAnyBenchmark } from ${JSON.stringify(HARNESS)};
globalThis.__strataBench = {
  names: benchmarks.map((benchmark) => benchmark.name),
  environment: () =>
    \`\${navigator.userAgent.match(/(?:Headless)?Chrome\\/[\\d.]+/)?.[0] ?? navigator.userAgent}, \` +
    \`crossOriginIsolated \${globalThis.crossOriginIsolated}, \${navigator.hardwareConcurrency} cores\`,
  run: (index, runs) => runAnyBenchmark(benchmarks[index], runs ?? undefined),
};
`;
  const result = await build({
    stdin: {
      contents: entry,
      resolveDir: dirname(file),
      sourcefile: 'bench-entry.js',
      loader: 'js',
    },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    // What an app's production build would set.
    define: { 'process.env.NODE_ENV': '"production"' },
    sourcemap: 'inline',
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error(`esbuild produced no output for ${file}`);
  return output.text;
}

/** The Node-side set-up module of a browser bench file, if it has one. */
export function setupModulePath(file: string): string | undefined {
  const path = file.replace(/\.browser\.bench\.ts$/, '.browser.bench.setup.ts');
  return path !== file && existsSync(path) ? path : undefined;
}

/** `params()` is read per request: the set-up runs after the server started listening. */
function serve(script: string, params: () => unknown): Promise<Server> {
  const html = () =>
    '<!doctype html><meta charset="utf-8"><title>strata bench</title>' +
    (params() === undefined ? '' : paramsScript(params())) +
    '<script type="module" src="/bench.js"></script>';
  const server = createServer((request, response) => {
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cache-Control': 'no-store',
    };
    if (request.url === '/') {
      response.writeHead(200, { ...headers, 'Content-Type': 'text/html; charset=utf-8' });
      response.end(html());
    } else if (request.url === '/bench.js') {
      response.writeHead(200, { ...headers, 'Content-Type': 'text/javascript; charset=utf-8' });
      response.end(script);
    } else if (request.url === '/favicon.ico') {
      response.writeHead(204, headers);
      response.end();
    } else {
      response.writeHead(404, headers);
      response.end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

export interface BrowserBenchHandlers {
  /** Called once the page is ready, with a line describing the browser. */
  readonly onReady: (environment: string) => void;
  readonly onResult: (result: AnyBenchmarkResult) => void;
  /** A benchmark threw in the page; the file goes on with its next benchmark. */
  readonly onError: (name: string, error: unknown) => void;
}

/**
 * Bundles `file`, opens it in a fresh Chromium profile and runs each of its benchmarks in turn.
 * `runsOverride` (BENCH_RUNS) replaces every benchmark's own run count.
 */
export async function runBrowserBenchFile(
  file: string,
  executablePath: string,
  runsOverride: number | undefined,
  handlers: BrowserBenchHandlers,
): Promise<void> {
  const script = await bundleBrowserBench(file);
  let setup: BrowserBenchSetup | undefined;
  const server = await serve(script, () => setup?.params);
  const profile = await mkdtemp(join(tmpdir(), 'strata-bench-'));
  const { port } = server.address() as AddressInfo;
  let context: BrowserContext | undefined;
  try {
    const setupPath = setupModulePath(file);
    if (setupPath !== undefined) {
      const module = (await import(pathToFileURL(setupPath).href)) as {
        default: BrowserBenchSetupFunction;
      };
      setup = await module.default({ origin: `http://${HOST}:${port}` });
    }
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: BENCH_CHROMIUM_ARGS,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') {
        console.error(`  [page console.${message.type()}] ${message.text()}`);
      }
    });
    let pageError: Error | undefined;
    page.on('pageerror', (error) => {
      pageError ??= error;
      console.error(`  [page error] ${error.stack ?? error.message}`);
    });

    await page.goto(`http://${HOST}:${port}/`);
    await page
      .waitForFunction(() => (globalThis as PageGlobal).__strataBench !== undefined, undefined, {
        timeout: 60_000,
      })
      .catch((error: unknown) => {
        throw pageError ?? error;
      });
    const [names, environment] = await page.evaluate(() => {
      const bench = (globalThis as PageGlobal).__strataBench as PageBench;
      return [bench.names, bench.environment()] as const;
    });
    handlers.onReady(environment);
    for (let index = 0; index < names.length; index++) {
      try {
        const result = await page.evaluate(
          ([i, runs]) => ((globalThis as PageGlobal).__strataBench as PageBench).run(i, runs),
          [index, runsOverride ?? null] as const,
        );
        handlers.onResult(result);
      } catch (error) {
        handlers.onError(names[index] as string, error);
      }
    }
  } finally {
    try {
      await context?.close();
      await setup?.teardown?.();
    } finally {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await rm(profile, { recursive: true, force: true });
    }
  }
}
