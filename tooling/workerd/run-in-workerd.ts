/**
 * Runs a worker module in real workerd (Cloudflare's runtime) through miniflare,
 * for `*.workerd.test.ts` files. The entry is bundled with esbuild the way a
 * Workers deploy would resolve it (`workerd`, `worker`, `browser` conditions).
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare, type RequestInit, type Response } from 'miniflare';

export interface RunInWorkerdOptions {
  /** A TS/JS module whose default export has a `fetch(request, env, ctx)` handler. */
  entry: string | URL;
  /** e.g. `['nodejs_compat']`. */
  compatibilityFlags?: string[];
  /** Defaults to a fixed date so runs are reproducible. */
  compatibilityDate?: string;
  /** Plain-text/JSON bindings exposed on `env`. */
  bindings?: Record<string, unknown>;
}

export interface WorkerdHandle {
  /** Sends a request to the worker; `path` is resolved against `http://localhost`. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  dispose(): Promise<void>;
}

/** Bundles `entry` to a single ES module (node: and cloudflare: imports stay external). */
export async function bundleWorker(entry: string | URL): Promise<string> {
  const entryPath = entry instanceof URL ? fileURLToPath(entry) : entry;
  const result = await build({
    entryPoints: [entryPath],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    external: ['node:*', 'cloudflare:*'],
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error(`esbuild produced no output for ${entryPath}`);
  return output.text;
}

export async function runInWorkerd(options: RunInWorkerdOptions): Promise<WorkerdHandle> {
  const script = await bundleWorker(options.entry);
  const mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: options.compatibilityDate ?? '2026-01-01',
    compatibilityFlags: options.compatibilityFlags ?? [],
    bindings: options.bindings ?? {},
  });
  await mf.ready;
  return {
    fetch: (path, init) => mf.dispatchFetch(new URL(path, 'http://localhost').toString(), init),
    dispose: () => mf.dispose(),
  };
}
