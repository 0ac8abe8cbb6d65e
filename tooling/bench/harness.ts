/**
 * A small benchmark harness: each benchmark compares a subject with a baseline measured in the
 * same process, alternating runs so that drift on a shared machine hits both alike. Reports
 * medians, throughput and the subject/baseline throughput ratio.
 */

/** One measured workload. `setup` runs before every run and is not timed. */
export interface Workload<TContext = unknown> {
  readonly label: string;
  readonly setup?: () => TContext | Promise<TContext>;
  readonly run: (context: TContext) => unknown | Promise<unknown>;
}

/** A subject measured against a baseline; `units` per run give throughput (e.g. events). */
export interface Benchmark {
  readonly name: string;
  readonly unit: string;
  readonly units: number;
  // biome-ignore lint/suspicious/noExplicitAny: each workload has its own context type
  readonly baseline: Workload<any>;
  // biome-ignore lint/suspicious/noExplicitAny: each workload has its own context type
  readonly subject: Workload<any>;
  /** The goal, in words, printed beside the result. */
  readonly goal?: string;
}

/** Defines a benchmark; a typed identity so bench files read declaratively. */
export function defineBenchmark(benchmark: Benchmark): Benchmark {
  return benchmark;
}

export interface BenchmarkResult {
  readonly name: string;
  readonly unit: string;
  readonly units: number;
  readonly baseline: {
    readonly label: string;
    readonly medianMs: number;
    readonly samplesMs: number[];
  };
  readonly subject: {
    readonly label: string;
    readonly medianMs: number;
    readonly samplesMs: number[];
  };
  /** Subject throughput divided by baseline throughput (1 = as fast as the baseline). */
  readonly ratio: number;
  readonly goal: string | undefined;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

async function timeOnce(workload: Workload): Promise<number> {
  const context = await workload.setup?.();
  const start = performance.now();
  await workload.run(context);
  return performance.now() - start;
}

/** Runs one warm-up of each, then `runs` alternating timed runs of baseline and subject. */
export async function runBenchmark(benchmark: Benchmark, runs = 7): Promise<BenchmarkResult> {
  await timeOnce(benchmark.baseline);
  await timeOnce(benchmark.subject);
  const baselineMs: number[] = [];
  const subjectMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    baselineMs.push(await timeOnce(benchmark.baseline));
    subjectMs.push(await timeOnce(benchmark.subject));
  }
  const baselineMedian = median(baselineMs);
  const subjectMedian = median(subjectMs);
  return {
    name: benchmark.name,
    unit: benchmark.unit,
    units: benchmark.units,
    baseline: { label: benchmark.baseline.label, medianMs: baselineMedian, samplesMs: baselineMs },
    subject: { label: benchmark.subject.label, medianMs: subjectMedian, samplesMs: subjectMs },
    ratio: baselineMedian / subjectMedian,
    goal: benchmark.goal,
  };
}

const perSecond = (units: number, ms: number) =>
  Math.round((units / ms) * 1000).toLocaleString('en-US');

/** A readable block for one result. */
export function formatResult(result: BenchmarkResult): string {
  const line = (side: BenchmarkResult['baseline']) =>
    `  ${side.label.padEnd(48)} median ${side.medianMs.toFixed(1).padStart(8)} ms  ${perSecond(result.units, side.medianMs).padStart(12)} ${result.unit}/s`;
  return [
    `${result.name} (${result.units.toLocaleString('en-US')} ${result.unit} per run, ${result.subject.samplesMs.length} runs)`,
    line(result.baseline),
    line(result.subject),
    `  ratio subject/baseline throughput: ${result.ratio.toFixed(2)}x${result.goal ? `   goal: ${result.goal}` : ''}`,
  ].join('\n');
}
