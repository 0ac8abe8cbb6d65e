/**
 * `pnpm bench`: runs every `*.bench.ts` under packages/ and demo/ (each default-exports a list of
 * benchmarks) and prints medians and ratios. `pnpm bench <filter>` runs the files whose path
 * contains the filter. `BENCH_RUNS` sets the timed runs per side (default 7).
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Benchmark, formatResult, runBenchmark } from './harness.ts';

const root = join(import.meta.dirname, '..', '..');
const filter = process.argv[2] ?? '';
const runs = Number(process.env.BENCH_RUNS ?? 7);

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

console.log(`node ${process.version}, ${runs} timed runs per side, medians\n`);
for (const file of files) {
  console.log(`# ${relative(root, file)}`);
  const module = (await import(pathToFileURL(file).href)) as { default: readonly Benchmark[] };
  for (const benchmark of module.default) {
    console.log(formatResult(await runBenchmark(benchmark, runs)));
    console.log();
  }
}
