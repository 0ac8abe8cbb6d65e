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
 * `pnpm bench --markdown` also writes docs/benchmarks.md (`--markdown=<path>` elsewhere): the
 * machine (machine.ts, environment.ts) and a table of every figure, its baseline, the ratio, the
 * spread over runs and the goals (report.ts). A run with a filter, a failure or a skipped file
 * says it is partial at the top.
 *
 * Per-file set-up beyond each benchmark's own `setup`/`teardown`: a Node bench file may also
 * export `teardown()`, called once after its benchmarks (even failed ones), e.g. to stop a server
 * it started at import; a browser bench file may have a sibling `x.browser.bench.setup.ts` run
 * in Node before its page opens (see browser-setup.ts and chromium.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CHROMIUM_PATH } from '../chromium.ts';
import { findChromium, runBrowserBenchFile } from './chromium.ts';
import { environmentNotes, noteEnvironment } from './environment.ts';
import {
  type AnyBenchmark,
  type AnyBenchmarkResult,
  DEFAULT_RUNS,
  formatAnyResult,
  runAnyBenchmark,
} from './harness.ts';
import { collectMachine } from './machine.ts';
import { type FileReport, markdownReport } from './report.ts';

/** What a Node bench file exports. */
interface NodeBenchModule {
  readonly default: readonly AnyBenchmark[];
  /** Called once after the file's benchmarks. */
  readonly teardown?: () => unknown | Promise<unknown>;
}

const root = join(import.meta.dirname, '..', '..');
const args = process.argv.slice(2);
const markdownArg = args.find((arg) => arg === '--markdown' || arg.startsWith('--markdown='));
const markdownPath =
  markdownArg === undefined
    ? undefined
    : markdownArg === '--markdown'
      ? join(root, 'docs', 'benchmarks.md')
      : resolve(markdownArg.slice('--markdown='.length));
const unknownFlag = args.find((arg) => arg.startsWith('--') && arg !== markdownArg);
if (unknownFlag !== undefined) throw new RangeError(`unknown option ${unknownFlag}`);
const filter = args.find((arg) => !arg.startsWith('--')) ?? '';
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

/** The file being run, as the report will show it. */
let current: {
  file: string;
  wallMs: number;
  environment?: string;
  results: AnyBenchmarkResult[];
  failures: { name: string; message: string }[];
  skipped?: string;
};
const reports: FileReport[] = [];

const print = (result: AnyBenchmarkResult) => {
  current.results.push(result);
  console.log(formatAnyResult(result));
  console.log();
};
const fail = (name: string, error: unknown) => {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  current.failures.push({ name, message });
  console.error(`${name}\n  FAILED:`, message);
  console.log();
  process.exitCode = 1;
};

console.log(
  `node ${process.version}; ${runsOverride === undefined ? `timed runs per side as each benchmark sets (default ${DEFAULT_RUNS})` : `${runsOverride} timed runs per side (BENCH_RUNS)`}, after untimed warm-up runs (default 1)\n`,
);
const started = performance.now();
async function runFile(file: string, name: string): Promise<void> {
  if (file.endsWith('.browser.bench.ts')) {
    const chromiumPath = findChromium();
    if (chromiumPath === undefined) {
      current.skipped = `no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
      console.log(`  SKIPPED: ${current.skipped}\n`);
      return;
    }
    await runBrowserBenchFile(file, chromiumPath, runsOverride, {
      onReady: (environment) => {
        current.environment = environment;
        noteEnvironment('Chromium (as the pages report it)', environment);
        console.log(`  in ${environment}\n`);
      },
      onResult: print,
      onError: fail,
    }).catch((error: unknown) => fail(name, error));
    return;
  }
  let module: NodeBenchModule;
  try {
    module = (await import(pathToFileURL(file).href)) as NodeBenchModule;
  } catch (error) {
    fail(name, error);
    return;
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

for (const file of files) {
  const name = relative(root, file);
  console.log(`# ${name}`);
  const fileStarted = performance.now();
  current = { file: name, wallMs: 0, results: [], failures: [] };
  await runFile(file, name);
  current.wallMs = performance.now() - fileStarted;
  reports.push(current);
}
const totalMs = performance.now() - started;
console.log(`done in ${(totalMs / 1000).toFixed(0)} s`);

if (markdownPath !== undefined) {
  const machine = await collectMachine(root, environmentNotes());
  const markdown = markdownReport({
    machine,
    command: `pnpm bench ${args.join(' ')}`.trim(),
    filter,
    runs:
      runsOverride === undefined
        ? `timed runs per side as each benchmark sets (default ${DEFAULT_RUNS})`
        : `${runsOverride} timed runs per side (BENCH_RUNS)`,
    totalMs,
    files: reports,
  });
  mkdirSync(dirname(markdownPath), { recursive: true });
  writeFileSync(markdownPath, markdown);
  // The report is committed, and `pnpm lint` checks markdown tables' layout: format it as the
  // project formats everything, so a fresh report never fails the lint.
  execFileSync(join(root, 'node_modules', '.bin', 'biome'), ['format', '--write', markdownPath], {
    stdio: 'ignore',
  });
  console.log(`wrote ${relative(process.cwd(), markdownPath) || markdownPath}`);
}
