/**
 * `pnpm bench`: runs every `*.bench.ts` under packages/ and demo/ (each default-exports a list of
 * benchmarks made with harness.ts) and prints medians, percentiles and ratios. `pnpm bench
 * <filter>` runs the files whose path contains the filter (e.g. `pnpm bench browser`).
 *
 * The file name picks where a bench runs, like the test tiers: `x.bench.ts` in this Node process,
 * `x.browser.bench.ts` in a page of real headless Chromium ($CHROMIUM_PATH or /usr/bin/chromium;
 * see chromium.ts). `BENCH_RUNS` sets the timed runs per side for every benchmark; without it each
 * benchmark's own `runs`, else 7.
 *
 * Per-file set-up beyond each benchmark's own `setup`/`teardown`: a Node bench file may also
 * export `teardown()`, called once after its benchmarks (even failed ones), e.g. to stop a server
 * it started at import; a browser bench file may have a sibling `x.browser.bench.setup.ts` run
 * in Node before its page opens (see browser-setup.ts and chromium.ts).
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CHROMIUM_PATH } from '../chromium.ts';
import { findChromium, runBrowserBenchFile } from './chromium.ts';
import { type AnyBenchmark, DEFAULT_RUNS, formatAnyResult, runAnyBenchmark } from './harness.ts';

/** What a Node bench file exports. */
interface NodeBenchModule {
  readonly default: readonly AnyBenchmark[];
  /** Called once after the file's benchmarks. */
  readonly teardown?: () => unknown | Promise<unknown>;
}

const root = join(import.meta.dirname, '..', '..');
const filter = process.argv[2] ?? '';
const runsOverride =
  process.env.BENCH_RUNS === undefined ? undefined : Number(process.env.BENCH_RUNS);
if (runsOverride !== undefined && !(Number.isInteger(runsOverride) && runsOverride > 0)) {
  throw new RangeError(`BENCH_RUNS must be a positive integer, got ${process.env.BENCH_RUNS}`);
}

function benchFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return benchFiles(path);
    return entry.name.endsWith('.bench.ts') ? [path] : [];
  });
}

const files = ['packages', 'demo']
  .flatMap((dir) => benchFiles(join(root, dir)))
  .filter((file) => relative(root, file).includes(filter))
  .sort();

const print = (result: Parameters<typeof formatAnyResult>[0]) => {
  console.log(formatAnyResult(result));
  console.log();
};
const fail = (name: string, error: unknown) => {
  console.error(
    `${name}\n  FAILED:`,
    error instanceof Error ? (error.stack ?? error.message) : error,
  );
  console.log();
  process.exitCode = 1;
};

console.log(
  `node ${process.version}; ${runsOverride === undefined ? `timed runs per side as each benchmark sets (default ${DEFAULT_RUNS})` : `${runsOverride} timed runs per side (BENCH_RUNS)`}, after untimed warm-up runs (default 1)\n`,
);
const started = performance.now();
for (const file of files) {
  const name = relative(root, file);
  console.log(`# ${name}`);
  if (file.endsWith('.browser.bench.ts')) {
    const chromiumPath = findChromium();
    if (chromiumPath === undefined) {
      console.log(
        `  SKIPPED: no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)\n`,
      );
      continue;
    }
    await runBrowserBenchFile(file, chromiumPath, runsOverride, {
      onReady: (environment) => console.log(`  in ${environment}\n`),
      onResult: print,
      onError: fail,
    }).catch((error: unknown) => fail(name, error));
    continue;
  }
  let module: NodeBenchModule;
  try {
    module = (await import(pathToFileURL(file).href)) as NodeBenchModule;
  } catch (error) {
    fail(name, error);
    continue;
  }
  try {
    for (const benchmark of module.default) {
      await runAnyBenchmark(benchmark, runsOverride).then(print, (error: unknown) =>
        fail(benchmark.name, error),
      );
    }
  } finally {
    await (async () => module.teardown?.())().catch((error: unknown) =>
      fail(`${name} teardown`, error),
    );
  }
}
console.log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
