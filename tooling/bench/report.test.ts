import { describe, expect, it } from 'vitest';
import { frontendStatementCounter } from './counting-ws-proxy.ts';
import { type BenchmarkResult, goalMiss, type LatencyResult } from './harness.ts';
import { mountOf } from './machine.ts';
import { markdownReport, resultRows } from './report.ts';

const throughput: BenchmarkResult = {
  name: 'W2',
  unit: 'events',
  units: 1000,
  baseline: { label: 'Emmett', medianMs: 500, samplesMs: [450, 500, 600] },
  subject: { label: 'strata', medianMs: 250, samplesMs: [200, 250, 300] },
  ratio: 2,
  extraBaselines: [{ label: 'floor', medianMs: 100, samplesMs: [100, 100, 100], ratio: 0.4 }],
  goal: [
    { minRatio: 3, against: 'Emmett' },
    { minRatio: 0.5, against: 'floor' },
  ],
};

const latency: LatencyResult = {
  kind: 'latency',
  name: 'fan-out',
  unit: 'deliveries',
  runs: 2,
  operations: 2,
  baseline: {
    label: '1 subscriber',
    p50Ms: 2,
    p99Ms: 4,
    minMs: 1,
    maxMs: 4,
    meanMs: 2.5,
    samplesMs: [1, 2, 3, 4],
    runs: [
      { p50Ms: 1, p99Ms: 2 },
      { p50Ms: 3, p99Ms: 4 },
    ],
  },
  subject: {
    label: '1000 subscribers',
    p50Ms: 40,
    p99Ms: 120,
    minMs: 10,
    maxMs: 120,
    meanMs: 50,
    samplesMs: [10, 40, 80, 120],
  },
  p50Ratio: 20,
  goal: { maxP99Ms: 100 },
  notes: ['8 statements per append'],
};

describe('goals', () => {
  it('checks each ratio goal against the baseline it names, and says by how much it missed', () => {
    const miss = goalMiss(throughput);
    expect(miss).toMatch(/ratio to Emmett 2\.00x is 1\.00 short of 3\.00x/);
    expect(miss).toMatch(/ratio to floor 0\.40x is 0\.10 short of 0\.50x/);
    expect(goalMiss({ ...throughput, goal: { minRatio: 1.5 } })).toBeUndefined();
  });

  it('checks a p99 goal of a latency result', () => {
    expect(goalMiss(latency)).toMatch(/p99 120\.0 ms is 20\.0 ms \(20%\) over the 100\.0 ms goal/);
    expect(goalMiss({ ...latency, goal: { maxP99Ms: 150 } })).toBeUndefined();
  });
});

describe('markdown report', () => {
  it('has a row per baseline, each with its ratio, spread and own goals', () => {
    const rows = resultRows(throughput);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain('| W2 | strata | 4,000 events/s');
    expect(rows[0]).toContain('| Emmett | 2,000 events/s');
    expect(rows[0]).toContain('2.00x throughput');
    expect(rows[0]).toContain('3,333 events/s – 5,000 events/s (3 runs, range 40% of median)');
    expect(rows[0]).toContain('**MISSED**: ratio to Emmett');
    expect(rows[1]).toContain('| floor | 10,000 events/s');
    expect(rows[1]).toContain('0.40x throughput');
    expect(rows[1]).toContain('**MISSED**: ratio to floor');
  });

  it('shows a latency result with p50, p99 and their spread over runs', () => {
    const [row] = resultRows(latency);
    expect(row).toContain('p50 40.0 ms, p99 120.0 ms');
    expect(row).toContain('p50 1.00 ms – 3.00 ms, p99 2.00 ms – 4.00 ms over 2 runs');
    expect(row).toContain('subject p99 <= 100.0 ms');
  });

  it('names the machine, marks a filtered or failed run partial, and keeps notes and failures', () => {
    const markdown = markdownReport({
      machine: {
        cpu: 'Some CPU',
        cores: 2,
        memoryGiB: 24,
        os: 'linux',
        node: 'v20.20.2',
        commit: 'abc123',
        date: '2026-12-03T00:00:00.000Z',
        notes: new Map([['Postgres', ['Postgres 15.18, fsync on']]]),
      },
      command: 'pnpm bench --markdown',
      filter: 'fan-out',
      runs: '3 timed runs per side (BENCH_RUNS)',
      totalMs: 65_000,
      files: [
        {
          file: 'a.bench.ts',
          wallMs: 65_000,
          results: [latency],
          failures: [{ name: 'broken', message: 'Error: no' }],
        },
      ],
    });
    expect(markdown).toContain('**Partial report**: only files matching `fan-out`; 1 failed');
    expect(markdown).toContain('- CPU: Some CPU, 2 cores; memory 24 GiB; linux');
    expect(markdown).toContain('- Postgres: Postgres 15.18, fsync on');
    expect(markdown).toContain('0 checked goals met, 1 missed.');
    expect(markdown).toContain('- fan-out: 8 statements per append');
    expect(markdown).toContain('**FAILED** broken:');
  });
});

describe('machine', () => {
  it('finds the mount that holds a path', () => {
    const mounts = '/dev/vda / ext4 rw 0 0\ntmpfs /tmp tmpfs rw 0 0\ntmpfs /tmpx tmpfs rw 0 0\n';
    expect(mountOf('/tmp', mounts)).toBe('tmpfs (tmpfs on /tmp)');
    expect(mountOf('/tmp/a', mounts)).toBe('tmpfs (tmpfs on /tmp)');
    expect(mountOf('/var', mounts)).toBe('ext4 (/dev/vda on /)');
  });
});

describe('statement counter', () => {
  const message = (type: string, body = '') => {
    const buffer = Buffer.alloc(5 + body.length);
    buffer.write(type, 0);
    buffer.writeInt32BE(4 + body.length, 1);
    buffer.write(body, 5);
    return buffer;
  };
  const startup = () => {
    const buffer = Buffer.alloc(8);
    buffer.writeInt32BE(8, 0);
    buffer.writeInt32BE(196608, 4);
    return buffer;
  };

  it('counts simple queries and executes after the startup packet, however the bytes are split', () => {
    let count = 0;
    const feed = frontendStatementCounter(() => count++);
    const stream = Buffer.concat([
      startup(),
      message('Q', 'SELECT 1\0'),
      message('P', 'x'),
      message('B'),
      message('E'),
      message('S'),
      message('Q', 'BEGIN\0'),
    ]);
    for (let i = 0; i < stream.length; i += 3) feed(stream.subarray(i, i + 3));
    expect(count).toBe(3);
  });
});
