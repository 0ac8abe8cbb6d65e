// What an app pays for strata in its browser bundle: an entry of @strata/browser bundled by
// esbuild as an app's build would (minified, browser platform, ESM), its bytes minified and
// gzipped, and the bytes attributed to zod, dexie and strata through esbuild's metafile.
//
//   pnpm tsx tooling/checks/browser-bundle.ts    prints the figures of every measured entry
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { ROOT } from './source-graph.ts';

/**
 * Left to the app: the UI frameworks are peer dependencies it brings (and bundles) itself.
 * Dexie is a dependency of @strata/browser, so it is bundled and counted.
 */
export const BUNDLE_EXTERNALS = ['react', 'react-dom', 'vue', 'svelte'] as const;

/** The entries measured, by their export name in packages/browser/package.json. */
export const MEASURED_ENTRIES = ['.', './react'] as const;
export type MeasuredEntry = (typeof MEASURED_ENTRIES)[number];

/** Where the bytes of a bundle come from. */
export interface BundleShare {
  readonly zod: number;
  /** Of `zod`: its locale modules (`zod/v4/locales/*`). */
  readonly zodLocales: number;
  readonly dexie: number;
  readonly strata: number;
  readonly other: number;
}

export interface BundleSize {
  /** `@strata/browser` or `@strata/browser/react`. */
  readonly name: string;
  readonly minified: number;
  /** zlib at its default level (6, as the `gzip` command). */
  readonly gzip: number;
  readonly share: BundleShare;
  /**
   * Every module with bytes in the bundle, as esbuild names it (paths relative to the
   * repository). The metafile's top-level `inputs` also lists modules that were read and then
   * tree-shaken away, so they are taken from the output's inputs.
   */
  readonly inputs: readonly string[];
}

const BROWSER = join(ROOT, 'packages/browser');

/** The source file a `packages/browser/package.json` export points at. */
export function browserEntryFile(entry: MeasuredEntry): string {
  const manifest = JSON.parse(readFileSync(join(BROWSER, 'package.json'), 'utf8')) as {
    exports: Record<string, string>;
  };
  const target = manifest.exports[entry];
  if (typeof target !== 'string') throw new Error(`@strata/browser has no export "${entry}"`);
  return join(BROWSER, target);
}

/** Bundles one module as an app's build would and measures it. */
export async function measureBundle(
  name: string,
  source: { readonly file: string } | { readonly contents: string; readonly resolveDir: string },
): Promise<BundleSize> {
  const result = await build({
    ...('file' in source
      ? { entryPoints: [source.file] }
      : { stdin: { contents: source.contents, resolveDir: source.resolveDir, loader: 'ts' } }),
    absWorkingDir: ROOT,
    bundle: true,
    minify: true,
    platform: 'browser',
    format: 'esm',
    external: [...BUNDLE_EXTERNALS],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
  return {
    name,
    minified: code.byteLength,
    gzip: gzipSync(code).byteLength,
    share: shareOf(result.metafile),
    inputs: Object.values(result.metafile.outputs).flatMap((output) =>
      Object.entries(output.inputs)
        .filter(([, { bytesInOutput }]) => bytesInOutput > 0)
        .map(([path]) => path),
    ),
  };
}

/** Measures `@strata/browser` or one of its subpath entries. */
export function measureBrowserEntry(entry: MeasuredEntry): Promise<BundleSize> {
  const name = entry === '.' ? '@strata/browser' : `@strata/browser/${entry.slice(2)}`;
  return measureBundle(name, { file: browserEntryFile(entry) });
}

function shareOf(metafile: Metafile): BundleShare {
  const share = { zod: 0, zodLocales: 0, dexie: 0, strata: 0, other: 0 };
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      if (/node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?zod\//.test(path)) {
        share.zod += bytesInOutput;
        if (path.includes('/v4/locales/')) share.zodLocales += bytesInOutput;
      } else if (/node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?dexie\//.test(path)) {
        share.dexie += bytesInOutput;
      } else if (path.startsWith('packages/')) {
        share.strata += bytesInOutput;
      } else {
        share.other += bytesInOutput;
      }
    }
  }
  return share;
}

/**
 * The zod modules in a bundle that strata means never to ship: classic zod (`import { z } from
 * 'zod'`, ~75 KB even tree-shaken, as its schemas carry every method) and any locale but the
 * English one core formats issues with (`zod/v4/locales/en.js`, ~3 KB); the locales index
 * (264 KB) comes with `import { z } from 'zod'` or `from 'zod/mini'`, whose `z` namespace
 * defeats tree-shaking.
 */
export function unwantedZodModules(inputs: readonly string[]): string[] {
  return inputs.filter((path) => {
    const inZod = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?zod\/(.*)$/.exec(path);
    if (inZod === null) return false;
    const module = inZod[1] as string;
    if (/^(v4\/)?classic\//.test(module) || module === 'index.js' || module === 'v4/index.js') {
      return true;
    }
    return /(^|\/)locales\//.test(module) && module !== 'v4/locales/en.js';
  });
}

/** One line of figures, as the size check prints them. */
export function describeBundle(size: BundleSize): string {
  const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;
  const { zod, zodLocales, dexie, strata, other } = size.share;
  return (
    `${size.name}: ${size.minified} B minified (${kb(size.minified)}), ${size.gzip} B gzip ` +
    `(${kb(size.gzip)}); zod ${zod} B (locales ${zodLocales} B), dexie ${dexie} B, ` +
    `strata ${strata} B, other ${other} B`
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const entry of MEASURED_ENTRIES)
    console.log(describeBundle(await measureBrowserEntry(entry)));
}
