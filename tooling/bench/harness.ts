/**
 * A small benchmark harness: each benchmark compares a subject with a baseline measured in the
 * same process, alternating runs so that drift on a shared machine hits both alike.
 *
 * Two kinds:
 * - throughput (`defineBenchmark`): whole runs are timed; reports medians, throughput and the
 *   subject/baseline throughput ratio;
 * - latency (`defineLatencyBenchmark`): every operation is timed; reports p50/p99 computed from
 *   the raw samples of all timed runs, and the subject/baseline p50 ratio.
 *
 * This file uses nothing but `performance.now()`, so the same code runs in Node and in a page:
 * files named `*.browser.bench.ts` are bundled and run in headless Chromium (see chromium.ts).
 */

/** Timed runs per side when neither the benchmark nor `BENCH_RUNS` says otherwise. */
export const DEFAULT_RUNS = 7;

/** One measured workload. `setup` runs before every run and `teardown` after it, untimed. */
export interface Workload<TContext = unknown> {
  readonly label: string;
  readonly setup?: () => TContext | Promise<TContext>;
  readonly run: (context: TContext) => unknown | Promise<unknown>;
  readonly teardown?: (context: TContext) => unknown | Promise<unknown>;
}

/**
 * A goal the harness checks and reports, with how far off a miss is. A plain string is only
 * printed. Throughput: `minRatio` (subject/baseline throughput at least) or `maxMedianMs`
 * (subject median run at most). Latency: `maxP50Ms` or `maxP50Ratio` (subject p50 at most this
 * many times the baseline's).
 */
export type Goal =
  | string
  | { readonly minRatio: number }
  | { readonly maxMedianMs: number }
  | { readonly maxP50Ms: number }
  | { readonly maxP50Ratio: number };

/** A subject measured against a baseline; `units` per run give throughput (e.g. events). */
export interface Benchmark {
  readonly kind?: 'throughput';
  readonly name: string;
  readonly unit: string;
  readonly units: number;
  // biome-ignore lint/suspicious/noExplicitAny: each workload has its own context type
  readonly baseline: Workload<any>;
  // biome-ignore lint/suspicious/noExplicitAny: each workload has its own context type
  readonly subject: Workload<any>;
  /** The goal, printed beside the result; structured goals are checked. */
  readonly goal?: Goal;
  /** Timed runs per side for this benchmark (heavy ones need fewer); `BENCH_RUNS` overrides. */
  readonly runs?: number;
  /**
   * Untimed warm-up runs per side before the timed ones. Defaults to 1; 0 suits runs that take
   * seconds, where JIT warm-up is noise and a warm-up would only double the wall time.
   */
  readonly warmupRuns?: number;
}

/** One side of a latency benchmark: `operation` is timed on its own, `operations` times per run. */
export interface LatencyWorkload<TContext = unknown> {
  readonly label: string;
  /** Once per run, untimed. */
  readonly setup?: () => TContext | Promise<TContext>;
  /** One timed operation; `index` counts from 0 within the run. */
  readonly operation: (context: TContext, index: number) => unknown | Promise<unknown>;
  /** Once per run, untimed. */
  readonly teardown?: (context: TContext) => unknown | Promise<unknown>;
}

/** Per-operation latency of a subject beside a baseline. */
export interface LatencyBenchmark {
  readonly kind: 'latency';
  readonly name: string;
  /** What one operation is, plural (e.g. `commands`). */
  readonly unit: string;
  /** Operations per run; every one is a sample. */
  readonly operations: number;
  // biome-ignore lint/suspicious/noExplicitAny: each workload has its own context type
  readonly baseline: LatencyWorkload<any>;
  // biome-ignore lint/suspicious/noExplicitAny: each workload has its own context type
  readonly subject: LatencyWorkload<any>;
  readonly goal?: Goal;
  /** Timed runs per side (one untimed warm-up run precedes them); `BENCH_RUNS` overrides. */
  readonly runs?: number;
}

export type AnyBenchmark = Benchmark | LatencyBenchmark;

/** Defines a benchmark; a typed identity so bench files read declaratively. */
export function defineBenchmark(benchmark: Benchmark): Benchmark {
  return benchmark;
}

/** Defines a latency benchmark. */
export function defineLatencyBenchmark(
  benchmark: Omit<LatencyBenchmark, 'kind'>,
): LatencyBenchmark {
  return { ...benchmark, kind: 'latency' };
}

export interface BenchmarkResult {
  readonly kind?: 'throughput';
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
  readonly goal: Goal | undefined;
  /** Wall time of the whole benchmark, set-ups and warm-ups included (set by runAnyBenchmark). */
  readonly wallMs?: number;
}

export interface LatencySide {
  readonly label: string;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly meanMs: number;
  /** Every timed operation of every timed run, in the order they ran. */
  readonly samplesMs: number[];
}

export interface LatencyResult {
  readonly kind: 'latency';
  readonly name: string;
  readonly unit: string;
  readonly runs: number;
  readonly operations: number;
  readonly baseline: LatencySide;
  readonly subject: LatencySide;
  /** Subject p50 divided by baseline p50 (1 = as fast as the baseline; lower is better). */
  readonly p50Ratio: number;
  readonly goal: Goal | undefined;
  /** Wall time of the whole benchmark, set-ups and warm-ups included (set by runAnyBenchmark). */
  readonly wallMs?: number;
}

export type AnyBenchmarkResult = BenchmarkResult | LatencyResult;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * The nearest-rank percentile of raw samples: the smallest sample that at least `p` percent of
 * the samples do not exceed. No interpolation, so the answer is always a measured value.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of no samples');
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

async function timeOnce(workload: Workload): Promise<number> {
  const context = await workload.setup?.();
  const start = performance.now();
  await workload.run(context);
  const elapsed = performance.now() - start;
  await workload.teardown?.(context);
  return elapsed;
}

/**
 * Runs `warmupRuns` (default one) untimed runs of each, then `runs` alternating timed runs of
 * baseline and subject.
 */
export async function runBenchmark(
  benchmark: Benchmark,
  runs = DEFAULT_RUNS,
): Promise<BenchmarkResult> {
  for (let i = 0; i < (benchmark.warmupRuns ?? 1); i++) {
    await timeOnce(benchmark.baseline);
    await timeOnce(benchmark.subject);
  }
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

async function timeOperations(workload: LatencyWorkload, operations: number): Promise<number[]> {
  const context = await workload.setup?.();
  const samples: number[] = [];
  for (let i = 0; i < operations; i++) {
    const start = performance.now();
    await workload.operation(context, i);
    samples.push(performance.now() - start);
  }
  await workload.teardown?.(context);
  return samples;
}

function latencySide(label: string, samplesMs: number[]): LatencySide {
  return {
    label,
    p50Ms: percentile(samplesMs, 50),
    p99Ms: percentile(samplesMs, 99),
    minMs: Math.min(...samplesMs),
    maxMs: Math.max(...samplesMs),
    meanMs: samplesMs.reduce((sum, value) => sum + value, 0) / samplesMs.length,
    samplesMs,
  };
}

/** One untimed warm-up run of each side, then `runs` alternating runs; every operation is a sample. */
export async function runLatencyBenchmark(
  benchmark: LatencyBenchmark,
  runs = DEFAULT_RUNS,
): Promise<LatencyResult> {
  await timeOperations(benchmark.baseline, benchmark.operations);
  await timeOperations(benchmark.subject, benchmark.operations);
  const baselineMs: number[] = [];
  const subjectMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    baselineMs.push(...(await timeOperations(benchmark.baseline, benchmark.operations)));
    subjectMs.push(...(await timeOperations(benchmark.subject, benchmark.operations)));
  }
  const baseline = latencySide(benchmark.baseline.label, baselineMs);
  const subject = latencySide(benchmark.subject.label, subjectMs);
  return {
    kind: 'latency',
    name: benchmark.name,
    unit: benchmark.unit,
    runs,
    operations: benchmark.operations,
    baseline,
    subject,
    p50Ratio: subject.p50Ms / baseline.p50Ms,
    goal: benchmark.goal,
  };
}

/**
 * Runs either kind. Runs per side: `runsOverride` (the runner passes `BENCH_RUNS` when set),
 * else the benchmark's own `runs`, else {@link DEFAULT_RUNS}.
 */
export async function runAnyBenchmark(
  benchmark: AnyBenchmark,
  runsOverride?: number,
): Promise<AnyBenchmarkResult> {
  const runs = runsOverride ?? benchmark.runs ?? DEFAULT_RUNS;
  const start = performance.now();
  const result =
    benchmark.kind === 'latency'
      ? await runLatencyBenchmark(benchmark, runs)
      : await runBenchmark(benchmark, runs);
  return { ...result, wallMs: performance.now() - start };
}

const wall = (result: AnyBenchmarkResult) =>
  result.wallMs === undefined ? '' : `, ${(result.wallMs / 1000).toFixed(0)} s wall`;

const perSecond = (units: number, ms: number) =>
  Math.round((units / ms) * 1000).toLocaleString('en-US');

const ms = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;

/** The goal in words. */
export function describeGoal(goal: Goal): string {
  if (typeof goal === 'string') return goal;
  if ('minRatio' in goal) return `subject/baseline throughput >= ${goal.minRatio.toFixed(2)}x`;
  if ('maxMedianMs' in goal) return `subject median <= ${ms(goal.maxMedianMs)}`;
  if ('maxP50Ms' in goal) return `subject p50 <= ${ms(goal.maxP50Ms)}`;
  return `subject p50 <= ${goal.maxP50Ratio}x baseline p50`;
}

/**
 * Checks a structured goal: `undefined` when met (or not checkable), else a note saying by how
 * much it was missed.
 */
export function goalMiss(result: AnyBenchmarkResult): string | undefined {
  const goal = result.goal;
  if (goal === undefined || typeof goal === 'string') return undefined;
  const pct = (value: number) => `${(value * 100).toFixed(0)}%`;
  if (result.kind === 'latency') {
    const p50 = result.subject.p50Ms;
    if ('maxP50Ms' in goal && p50 > goal.maxP50Ms) {
      return `p50 ${ms(p50)} is ${ms(p50 - goal.maxP50Ms)} (${pct(p50 / goal.maxP50Ms - 1)}) over the ${ms(goal.maxP50Ms)} goal`;
    }
    if ('maxP50Ratio' in goal && result.p50Ratio > goal.maxP50Ratio) {
      const allowed = goal.maxP50Ratio * result.baseline.p50Ms;
      return `p50 is ${result.p50Ratio.toFixed(2)}x the baseline, goal <= ${goal.maxP50Ratio}x: ${ms(p50 - allowed)} (${pct(p50 / allowed - 1)}) over the allowed ${ms(allowed)}`;
    }
    return undefined;
  }
  if ('minRatio' in goal && result.ratio < goal.minRatio) {
    const allowedMs = result.baseline.medianMs / goal.minRatio;
    return `ratio ${result.ratio.toFixed(2)}x is ${(goal.minRatio - result.ratio).toFixed(2)} short of ${goal.minRatio.toFixed(2)}x: the subject needs ${pct(result.subject.medianMs / allowedMs - 1)} more speed (median ${ms(result.subject.medianMs)}, allowed ${ms(allowedMs)})`;
  }
  if ('maxMedianMs' in goal && result.subject.medianMs > goal.maxMedianMs) {
    const over = result.subject.medianMs - goal.maxMedianMs;
    return `median ${ms(result.subject.medianMs)} is ${ms(over)} (${pct(over / goal.maxMedianMs)}) over the ${ms(goal.maxMedianMs)} goal`;
  }
  return undefined;
}

function goalLines(result: AnyBenchmarkResult): string[] {
  if (result.goal === undefined) return [];
  const miss = goalMiss(result);
  const checked = typeof result.goal !== 'string';
  return [
    `  goal: ${describeGoal(result.goal)}${checked ? (miss === undefined ? '   met' : '   MISSED') : ''}`,
    ...(miss === undefined ? [] : [`  note: goal missed: ${miss}`]),
  ];
}

/** A readable block for one throughput result. */
export function formatResult(result: BenchmarkResult): string {
  const line = (side: BenchmarkResult['baseline']) =>
    `  ${side.label.padEnd(52)} median ${side.medianMs.toFixed(1).padStart(8)} ms  ${perSecond(result.units, side.medianMs).padStart(12)} ${result.unit}/s`;
  return [
    `${result.name} (${result.units.toLocaleString('en-US')} ${result.unit} per run, ${result.subject.samplesMs.length} runs${wall(result)})`,
    line(result.baseline),
    line(result.subject),
    `  ratio subject/baseline throughput: ${result.ratio.toFixed(2)}x`,
    ...goalLines(result),
  ].join('\n');
}

/** A readable block for one latency result. */
export function formatLatencyResult(result: LatencyResult): string {
  const cell = (value: number) => value.toFixed(2).padStart(7);
  const line = (side: LatencySide) =>
    `  ${side.label.padEnd(52)} p50 ${cell(side.p50Ms)} ms  p99 ${cell(side.p99Ms)} ms  min ${cell(side.minMs)}  max ${cell(side.maxMs)}  mean ${cell(side.meanMs)}`;
  return [
    `${result.name} (latency of each of ${result.operations.toLocaleString('en-US')} ${result.unit} per run, ${result.runs} runs: ${result.subject.samplesMs.length.toLocaleString('en-US')} samples per side${wall(result)})`,
    line(result.baseline),
    line(result.subject),
    `  ratio subject/baseline latency: p50 ${result.p50Ratio.toFixed(2)}x, p99 ${(result.subject.p99Ms / result.baseline.p99Ms).toFixed(2)}x (lower is better)`,
    ...goalLines(result),
  ].join('\n');
}

/** A readable block for a result of either kind. */
export function formatAnyResult(result: AnyBenchmarkResult): string {
  return result.kind === 'latency' ? formatLatencyResult(result) : formatResult(result);
}
