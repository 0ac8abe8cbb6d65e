/**
 * The markdown report `pnpm bench --markdown` writes (docs/benchmarks.md): the machine, then one
 * table row per figure: every benchmark's subject beside each of its baselines, the ratio, the
 * spread over runs and each goal, met or missed by how much. Pure formatting: run.ts collects the
 * results and the machine, this file only turns them into text (report.test.ts).
 */
import {
  type AnyBenchmarkResult,
  type BenchmarkResult,
  checkGoal,
  describeGoal,
  type Goal,
  goalsOf,
  type LatencyResult,
  type LatencySide,
  type ThroughputSide,
} from './harness.ts';

/** Where the benches ran. */
export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  /** The git commit the run measured, `+ uncommitted changes` when the tree was dirty. */
  readonly commit: string;
  readonly date: string;
  /** What the machinery noted (environment.ts), e.g. `Postgres` and `Chromium`. */
  readonly notes: ReadonlyMap<string, readonly string[]>;
}

/** One bench file's outcome. */
export interface FileReport {
  readonly file: string;
  readonly wallMs: number;
  /** Where it ran, when not this Node process (e.g. `HeadlessChrome/156…`). */
  readonly environment?: string;
  readonly results: readonly AnyBenchmarkResult[];
  readonly failures: readonly { readonly name: string; readonly message: string }[];
  /** Why the file did not run, when it did not. */
  readonly skipped?: string;
}

export interface Report {
  readonly machine: Machine;
  readonly command: string;
  /** The filter the run was given (`pnpm bench <filter>`): any filter makes a partial report. */
  readonly filter: string;
  readonly runs: string;
  readonly totalMs: number;
  readonly files: readonly FileReport[];
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** A duration for people: `0.42 ms`, `12.3 ms`, `1.52 s`. */
export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`;
}

/** A throughput for people, from units per run and a run's duration. */
export function formatRate(units: number, ms: number, unit: string): string {
  const perSecond = (units / ms) * 1000;
  const digits = perSecond < 10 ? 2 : perSecond < 100 ? 1 : 0;
  return `${perSecond.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${unit}/s`;
}

/** min–max of a side's runs, as throughput, and the spread as ± percent of the median. */
function throughputSpread(result: BenchmarkResult, side: ThroughputSide): string {
  const slowest = Math.max(...side.samplesMs);
  const fastest = Math.min(...side.samplesMs);
  const runs = side.samplesMs.length;
  if (runs < 2) return '1 run';
  const range = `${formatRate(result.units, slowest, result.unit)} – ${formatRate(result.units, fastest, result.unit)}`;
  const pct = ((slowest - fastest) / side.medianMs) * 100;
  return `${range} (${runs} runs, range ${pct.toFixed(0)}% of median)`;
}

function latencySpread(side: LatencySide): string {
  const runs = side.runs ?? [];
  if (runs.length < 2) return `${side.samplesMs.length} samples`;
  const p50s = runs.map((run) => run.p50Ms);
  const p99s = runs.map((run) => run.p99Ms);
  return `p50 ${formatMs(Math.min(...p50s))} – ${formatMs(Math.max(...p50s))}, p99 ${formatMs(Math.min(...p99s))} – ${formatMs(Math.max(...p99s))} over ${runs.length} runs`;
}

/** `met`, `MISSED by …`, or `—` for a goal only stated. */
function goalStatus(result: AnyBenchmarkResult, goal: Goal): string {
  if (typeof goal === 'string') return '—';
  const miss = checkGoal(result, goal);
  return miss === undefined ? 'met' : `**MISSED**: ${miss}`;
}

/** The goals of one comparison row: throughput `minRatio` goals go to the baseline they name. */
function goalsOfRow(
  result: AnyBenchmarkResult,
  baselineLabel: string,
  firstRow: boolean,
): readonly Goal[] {
  return goalsOf(result).filter((goal) => {
    if (typeof goal === 'object' && 'minRatio' in goal) {
      const against = goal.against ?? result.baseline.label;
      return against === baselineLabel;
    }
    return firstRow;
  });
}

const goalCells = (result: AnyBenchmarkResult, goals: readonly Goal[]): [string, string] =>
  goals.length === 0
    ? ['—', '—']
    : [
        goals.map((goal) => cell(describeGoal(goal))).join('<br>'),
        goals.map((goal) => cell(goalStatus(result, goal))).join('<br>'),
      ];

export const TABLE_HEADER = [
  '| Benchmark | Subject | Subject figure | Baseline | Baseline figure | Ratio | Spread over runs (subject; baseline) | Goal | Met? |',
  '|---|---|---|---|---|---|---|---|---|',
];

function throughputRows(result: BenchmarkResult): string[] {
  const baselines = [{ ...result.baseline, ratio: result.ratio }, ...(result.extraBaselines ?? [])];
  const subjectFigure = `${formatRate(result.units, result.subject.medianMs, result.unit)} (median ${formatMs(result.subject.medianMs)} per ${result.units.toLocaleString('en-US')} ${result.unit})`;
  return baselines.map((baseline, index) => {
    const [goal, met] = goalCells(result, goalsOfRow(result, baseline.label, index === 0));
    return `| ${[
      index === 0 ? cell(result.name) : '〃',
      cell(result.subject.label),
      subjectFigure,
      cell(baseline.label),
      `${formatRate(result.units, baseline.medianMs, result.unit)} (median ${formatMs(baseline.medianMs)})`,
      `${baseline.ratio.toFixed(2)}x throughput`,
      `${throughputSpread(result, result.subject)}; ${throughputSpread(result, baseline)}`,
      goal,
      met,
    ].join(' | ')} |`;
  });
}

function latencyRow(result: LatencyResult): string {
  const [goal, met] = goalCells(result, goalsOfRow(result, result.baseline.label, true));
  const figure = (side: LatencySide) => `p50 ${formatMs(side.p50Ms)}, p99 ${formatMs(side.p99Ms)}`;
  return `| ${[
    cell(
      `${result.name} (${result.subject.samplesMs.length.toLocaleString('en-US')} samples per side)`,
    ),
    cell(result.subject.label),
    figure(result.subject),
    cell(result.baseline.label),
    figure(result.baseline),
    `p50 ${result.p50Ratio.toFixed(2)}x, p99 ${(result.subject.p99Ms / result.baseline.p99Ms).toFixed(2)}x latency`,
    `${latencySpread(result.subject)}; ${latencySpread(result.baseline)}`,
    goal,
    met,
  ].join(' | ')} |`;
}

/** The table rows of one result: one per baseline for throughput, one for latency. */
export function resultRows(result: AnyBenchmarkResult): string[] {
  return result.kind === 'latency' ? [latencyRow(result)] : throughputRows(result);
}

function machineLines(machine: Machine): string[] {
  return [
    `- CPU: ${machine.cpu}, ${machine.cores} cores; memory ${machine.memoryGiB.toFixed(0)} GiB; ${machine.os}`,
    `- Node ${machine.node}`,
    ...[...machine.notes].map(([key, values]) => `- ${key}: ${values.join('; ')}`),
    `- Commit ${machine.commit}, ${machine.date}`,
  ];
}

/** Goals over all results: checked ones met, missed, and how many were only stated. */
function goalSummary(files: readonly FileReport[]): string {
  let met = 0;
  let missed = 0;
  for (const result of files.flatMap((file) => file.results)) {
    for (const goal of goalsOf(result)) {
      if (typeof goal === 'string') continue;
      if (checkGoal(result, goal) === undefined) met++;
      else missed++;
    }
  }
  return `${met} checked goal${met === 1 ? '' : 's'} met, ${missed} missed.`;
}

/** The whole report. */
export function markdownReport(report: Report): string {
  const failures = report.files.flatMap((file) =>
    file.failures.map((failure) => ({ ...failure, file: file.file })),
  );
  const skipped = report.files.filter((file) => file.skipped !== undefined);
  const partial = report.filter !== '' || failures.length > 0 || skipped.length > 0;
  const lines = [
    '# Benchmarks',
    '',
    `Written by \`${report.command}\` (tooling/bench/run.ts) in ${formatMs(report.totalMs)}; ${report.runs}. Each benchmark alternates its sides (subject, baseline, extra baselines) run by run within this one bench run, on the same database; a ratio compares figures measured side by side. Throughput figures are medians over the timed runs; latency figures are percentiles over every sample of every timed run. The spread is the slowest and fastest run (throughput) or the range of each run's own p50 and p99 (latency).`,
    '',
    ...(partial
      ? [
          `> **Partial report**: ${[
            report.filter === '' ? undefined : `only files matching \`${report.filter}\``,
            failures.length === 0 ? undefined : `${failures.length} failed`,
            skipped.length === 0 ? undefined : `${skipped.length} file(s) skipped`,
          ]
            .filter((part) => part !== undefined)
            .join('; ')}. Not a report to publish.`,
          '',
        ]
      : []),
    '## Machine',
    '',
    ...machineLines(report.machine),
    '',
    '## Figures',
    '',
    goalSummary(report.files),
    '',
  ];
  for (const file of report.files) {
    lines.push(
      `### ${file.file}`,
      '',
      `${formatMs(file.wallMs)}${file.environment === undefined ? '' : `, in ${file.environment}`}.`,
      '',
    );
    if (file.skipped !== undefined) {
      lines.push(`Skipped: ${file.skipped}`, '');
      continue;
    }
    if (file.results.length > 0) {
      lines.push(...TABLE_HEADER, ...file.results.flatMap(resultRows), '');
    }
    const notes = file.results.flatMap((result) =>
      (result.notes ?? []).map((note) => `- ${result.name}: ${note}`),
    );
    if (notes.length > 0) lines.push('Notes:', '', ...notes, '');
    for (const failure of file.failures) {
      lines.push(`**FAILED** ${failure.name}:`, '', '```', failure.message, '```', '');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
