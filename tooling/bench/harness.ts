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
 * printed. Throughput: `minRatio` (subject/baseline throughput at least; `against` names the
 * label of an extra baseline to compare with instead of the first) or `maxMedianMs` (subject
 * median run at most). Latency: `maxP50Ms`, `maxP99Ms` or `maxP50Ratio` (subject p50 at most
 * this many times the baseline's).
 */
export type Goal =
  | string
  | { readonly minRatio: number; readonly against?: string }
  | { readonly maxMedianMs: number }
  | { readonly maxP50Ms: number }
  | { readonly maxP99Ms: number }
  | { readonly maxP50Ratio: number };

/** One goal or several (each checked and reported on its own). */
export type Goals = Goal | readonly Goal[];

/**
 * Lines a benchmark adds to its result after its timed runs (e.g. what it counted on the way:
 * SQL statements per append). Printed under the figures and kept in the markdown report.
 */
export type Notes = () => readonly string[] | Promise<readonly string[]>;

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
  /**
   * More baselines, measured in the same alternation as the first (e.g. a peer library beside the
   * database's floor), each reported with the subject's throughput ratio to it.
   */
  // biome-ignore lint/suspicious/noExplicitAny: each workload has its own context type
  readonly extraBaselines?: readonly Workload<any>[];
  /** The goal(s), printed beside the result; structured goals are checked. */
  readonly goal?: Goals;
  readonly notes?: Notes;
  /** Timed runs per side for this benchmark (heavy ones need fewer); `BENCH_RUNS` overrides. */
  readonly runs?: number;
  /**
   * Untimed warm-up runs per side before the timed ones. Defaults to 1; 0 suits runs that take
   * seconds, where JIT warm-up is noise and a warm-up would only double the wall time.
   */
  readonly warmupRuns?: number;
}

/**
 * What an operation may return instead of being timed: its own samples, e.g. the delay from an
 * append to its delivery at each of many subscribers (one operation, one sample per subscriber).
 */
export interface OwnSamples {
  readonly samplesMs: readonly number[];
}

/** One side of a latency benchmark: `operation` is timed on its own, `operations` times per run. */
export interface LatencyWorkload<TContext = unknown> {
  readonly label: string;
  /** Once per run, untimed. */
  readonly setup?: () => TContext | Promise<TContext>;
  /**
   * One timed operation; `index` counts from 0 within the run. When it returns `OwnSamples`,
   * those are its samples instead of its duration.
   */
  readonly operation: (
    context: TContext,
    index: number,
  ) => unknown | OwnSamples | Promise<unknown | OwnSamples>;
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
  readonly goal?: Goals;
  readonly notes?: Notes;
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

/** One side of a throughput result: every timed run's duration and their median. */
export interface ThroughputSide {
  readonly label: string;
  readonly medianMs: number;
  readonly samplesMs: number[];
}

export interface BenchmarkResult {
  readonly kind?: 'throughput';
  readonly name: string;
  readonly unit: string;
  readonly units: number;
  readonly baseline: ThroughputSide;
  readonly subject: ThroughputSide;
  /** Subject throughput divided by baseline throughput (1 = as fast as the baseline). */
  readonly ratio: number;
  /** The extra baselines, each with the subject's throughput ratio to it. */
  readonly extraBaselines?: readonly (ThroughputSide & { readonly ratio: number })[];
  readonly goal: Goals | undefined;
  readonly notes?: readonly string[];
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
  /** Each timed run's own p50 and p99 (the spread over runs). */
  readonly runs?: readonly LatencyRun[];
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
  readonly goal: Goals | undefined;
  readonly notes?: readonly string[];
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
  const extras = benchmark.extraBaselines ?? [];
  const sides = [benchmark.baseline, ...extras, benchmark.subject];
  for (let i = 0; i < (benchmark.warmupRuns ?? 1); i++) {
    for (const side of sides) await timeOnce(side);
  }
  const samples = sides.map((): number[] => []);
  for (let i = 0; i < runs; i++) {
    for (const [index, side] of sides.entries()) samples[index]?.push(await timeOnce(side));
  }
  const result = (index: number): ThroughputSide => {
    const samplesMs = samples[index] ?? [];
    return { label: sides[index]?.label ?? '', medianMs: median(samplesMs), samplesMs };
  };
  const baseline = result(0);
  const subject = result(sides.length - 1);
  const notes = await benchmark.notes?.();
  return {
    name: benchmark.name,
    unit: benchmark.unit,
    units: benchmark.units,
    baseline,
    subject,
    ratio: baseline.medianMs / subject.medianMs,
    ...(extras.length === 0
      ? {}
      : {
          extraBaselines: extras.map((_, index) => {
            const side = result(index + 1);
            return { ...side, ratio: side.medianMs / subject.medianMs };
          }),
        }),
    goal: benchmark.goal,
    ...(notes === undefined ? {} : { notes }),
  };
}

async function timeOperations(workload: LatencyWorkload, operations: number): Promise<number[]> {
  const context = await workload.setup?.();
  const samples: number[] = [];
  for (let i = 0; i < operations; i++) {
    const start = performance.now();
    const outcome = await workload.operation(context, i);
    const elapsed = performance.now() - start;
    if (isOwnSamples(outcome)) samples.push(...outcome.samplesMs);
    else samples.push(elapsed);
  }
  await workload.teardown?.(context);
  return samples;
}

const isOwnSamples = (value: unknown): value is OwnSamples =>
  typeof value === 'object' &&
  value !== null &&
  Array.isArray((value as Partial<OwnSamples>).samplesMs);

function latencySide(label: string, samplesMs: number[]): LatencySide {
  return {
    label,
    p50Ms: percentile(samplesMs, 50),
    p99Ms: percentile(samplesMs, 99),
    minMs: samplesMs.reduce((min, value) => Math.min(min, value), Number.POSITIVE_INFINITY),
    maxMs: samplesMs.reduce((max, value) => Math.max(max, value), Number.NEGATIVE_INFINITY),
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
  const baselineRuns: number[][] = [];
  const subjectRuns: number[][] = [];
  for (let i = 0; i < runs; i++) {
    const baselineRun = await timeOperations(benchmark.baseline, benchmark.operations);
    const subjectRun = await timeOperations(benchmark.subject, benchmark.operations);
    baselineRuns.push(baselineRun);
    subjectRuns.push(subjectRun);
    baselineMs.push(...baselineRun);
    subjectMs.push(...subjectRun);
  }
  const baseline = {
    ...latencySide(benchmark.baseline.label, baselineMs),
    runs: baselineRuns.map(runSummary),
  };
  const subject = {
    ...latencySide(benchmark.subject.label, subjectMs),
    runs: subjectRuns.map(runSummary),
  };
  const notes = await benchmark.notes?.();
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
    ...(notes === undefined ? {} : { notes }),
  };
}

/** One timed run's p50 and p99, for the spread over runs. */
export interface LatencyRun {
  readonly p50Ms: number;
  readonly p99Ms: number;
}

const runSummary = (samplesMs: readonly number[]): LatencyRun => ({
  p50Ms: percentile(samplesMs, 50),
  p99Ms: percentile(samplesMs, 99),
});

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
  if ('minRatio' in goal) {
    return `subject/${goal.against ?? 'baseline'} throughput >= ${goal.minRatio.toFixed(2)}x`;
  }
  if ('maxMedianMs' in goal) return `subject median <= ${ms(goal.maxMedianMs)}`;
  if ('maxP50Ms' in goal) return `subject p50 <= ${ms(goal.maxP50Ms)}`;
  if ('maxP99Ms' in goal) return `subject p99 <= ${ms(goal.maxP99Ms)}`;
  return `subject p50 <= ${goal.maxP50Ratio}x baseline p50`;
}

/** A result's goals as a list (none, one or several). */
export function goalsOf(result: { readonly goal: Goals | undefined }): readonly Goal[] {
  const { goal } = result;
  if (goal === undefined) return [];
  return typeof goal === 'string' || !Array.isArray(goal) ? [goal as Goal] : goal;
}

/** The side a throughput goal compares with: the first baseline, or the extra one it names. */
function comparedSide(
  result: BenchmarkResult,
  against: string | undefined,
): (ThroughputSide & { readonly ratio: number }) | undefined {
  if (against === undefined || against === result.baseline.label) {
    return { ...result.baseline, ratio: result.ratio };
  }
  return result.extraBaselines?.find((side) => side.label === against);
}

/**
 * Checks one structured goal of a result: `undefined` when met (or not checkable), else a note
 * saying by how much it was missed.
 */
export function checkGoal(result: AnyBenchmarkResult, goal: Goal): string | undefined {
  if (typeof goal === 'string') return undefined;
  const pct = (value: number) => `${(value * 100).toFixed(0)}%`;
  if (result.kind === 'latency') {
    const { p50Ms: p50, p99Ms: p99 } = result.subject;
    if ('maxP50Ms' in goal && p50 > goal.maxP50Ms) {
      return `p50 ${ms(p50)} is ${ms(p50 - goal.maxP50Ms)} (${pct(p50 / goal.maxP50Ms - 1)}) over the ${ms(goal.maxP50Ms)} goal`;
    }
    if ('maxP99Ms' in goal && p99 > goal.maxP99Ms) {
      return `p99 ${ms(p99)} is ${ms(p99 - goal.maxP99Ms)} (${pct(p99 / goal.maxP99Ms - 1)}) over the ${ms(goal.maxP99Ms)} goal`;
    }
    if ('maxP50Ratio' in goal && result.p50Ratio > goal.maxP50Ratio) {
      const allowed = goal.maxP50Ratio * result.baseline.p50Ms;
      return `p50 is ${result.p50Ratio.toFixed(2)}x the baseline, goal <= ${goal.maxP50Ratio}x: ${ms(p50 - allowed)} (${pct(p50 / allowed - 1)}) over the allowed ${ms(allowed)}`;
    }
    return undefined;
  }
  if ('minRatio' in goal) {
    const side = comparedSide(result, goal.against);
    if (side === undefined) return `no baseline labelled "${goal.against}" to compare with`;
    if (side.ratio >= goal.minRatio) return undefined;
    const allowedMs = side.medianMs / goal.minRatio;
    return `ratio to ${side.label} ${side.ratio.toFixed(2)}x is ${(goal.minRatio - side.ratio).toFixed(2)} short of ${goal.minRatio.toFixed(2)}x: the subject needs ${pct(result.subject.medianMs / allowedMs - 1)} more speed (median ${ms(result.subject.medianMs)}, allowed ${ms(allowedMs)})`;
  }
  if ('maxMedianMs' in goal && result.subject.medianMs > goal.maxMedianMs) {
    const over = result.subject.medianMs - goal.maxMedianMs;
    return `median ${ms(result.subject.medianMs)} is ${ms(over)} (${pct(over / goal.maxMedianMs)}) over the ${ms(goal.maxMedianMs)} goal`;
  }
  return undefined;
}

/**
 * Checks a result's structured goals: `undefined` when all are met (or none is checkable), else
 * the misses, each saying by how much (joined with `; `).
 */
export function goalMiss(result: AnyBenchmarkResult): string | undefined {
  const misses = goalsOf(result).flatMap((goal) => checkGoal(result, goal) ?? []);
  return misses.length === 0 ? undefined : misses.join('; ');
}

function goalLines(result: AnyBenchmarkResult): string[] {
  return goalsOf(result).flatMap((goal) => {
    const miss = checkGoal(result, goal);
    const checked = typeof goal !== 'string';
    return [
      `  goal: ${describeGoal(goal)}${checked ? (miss === undefined ? '   met' : '   MISSED') : ''}`,
      ...(miss === undefined ? [] : [`  note: goal missed: ${miss}`]),
    ];
  });
}

const noteLines = (result: AnyBenchmarkResult) =>
  (result.notes ?? []).map((note) => `  note: ${note}`);

/** A readable block for one throughput result. */
export function formatResult(result: BenchmarkResult): string {
  const line = (side: ThroughputSide) =>
    `  ${side.label.padEnd(52)} median ${side.medianMs.toFixed(1).padStart(8)} ms  ${perSecond(result.units, side.medianMs).padStart(12)} ${result.unit}/s`;
  const extras = result.extraBaselines ?? [];
  return [
    `${result.name} (${result.units.toLocaleString('en-US')} ${result.unit} per run, ${result.subject.samplesMs.length} runs${wall(result)})`,
    line(result.baseline),
    ...extras.map(line),
    line(result.subject),
    `  ratio subject/baseline throughput: ${result.ratio.toFixed(2)}x`,
    ...extras.map((side) => `  ratio subject/${side.label} throughput: ${side.ratio.toFixed(2)}x`),
    ...goalLines(result),
    ...noteLines(result),
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
    ...noteLines(result),
  ].join('\n');
}

/** A readable block for a result of either kind. */
export function formatAnyResult(result: AnyBenchmarkResult): string {
  return result.kind === 'latency' ? formatLatencyResult(result) : formatResult(result);
}
