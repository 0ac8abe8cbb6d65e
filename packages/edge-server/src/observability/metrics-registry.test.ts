import { describe, expect, it } from 'vitest';
import {
  parsePrometheusText,
  sampleValue,
} from '../../test/fixtures/observability/parse-prometheus-text.ts';
import { createMetricsRegistry, OTHER_LABEL_VALUE } from './metrics-registry.ts';
import { serializePrometheusText } from './prometheus-text.ts';

const render = async (registry: ReturnType<typeof createMetricsRegistry>, context?: unknown) =>
  parsePrometheusText(serializePrometheusText(await registry.collect(context)));

describe('metrics registry', () => {
  it('counts per series of declared label values', async () => {
    const registry = createMetricsRegistry();
    const pushes = registry.counter({
      name: 'test_pushes_total',
      help: 'Pushes',
      labels: { protocol: ['v1', 'v2'], code: ['VERSION_CONFLICT'] },
    });
    pushes.inc({ protocol: 'v1', code: 'VERSION_CONFLICT' });
    pushes.inc({ protocol: 'v1', code: 'VERSION_CONFLICT' }, 2);
    pushes.inc({ protocol: 'v2', code: 'VERSION_CONFLICT' });
    const families = await render(registry);
    expect(families.get('test_pushes_total')?.type).toBe('counter');
    expect(
      sampleValue(families, 'test_pushes_total', { protocol: 'v1', code: 'VERSION_CONFLICT' }),
    ).toBe(3);
    expect(
      sampleValue(families, 'test_pushes_total', { protocol: 'v2', code: 'VERSION_CONFLICT' }),
    ).toBe(1);
  });

  it('counts a value outside the declared set as other: no request value becomes a label', async () => {
    const registry = createMetricsRegistry();
    const counter = registry.counter({
      name: 'test_total',
      help: 'x',
      labels: { code: ['A'] },
    });
    counter.inc({ code: 'tenant-acme' });
    counter.inc({ code: 'aggregate 123"\n' });
    counter.inc({ code: 'A' });
    const text = serializePrometheusText(await registry.collect());
    expect(text).not.toContain('acme');
    expect(text).not.toContain('aggregate');
    const families = parsePrometheusText(text);
    expect(sampleValue(families, 'test_total', { code: OTHER_LABEL_VALUE })).toBe(2);
    expect(families.get('test_total')?.samples).toHaveLength(2);
  });

  it('refuses counters that go down, bad names and the same name twice', () => {
    const registry = createMetricsRegistry();
    const counter = registry.counter({ name: 'ok_total', help: 'x' });
    expect(() => counter.inc({}, -1)).toThrow(RangeError);
    expect(() => counter.inc({}, Number.NaN)).toThrow(RangeError);
    expect(() => registry.counter({ name: 'ok_total', help: 'again' })).toThrow(/exists/);
    expect(() => registry.gauge({ name: 'bad-name', help: 'x' })).toThrow(/metric name/);
    expect(() => registry.gauge({ name: 'g', help: 'x', labels: { __reserved: ['a'] } })).toThrow(
      /label name/,
    );
    expect(() => registry.histogram({ name: 'h', help: 'x', buckets: [1, 1] })).toThrow(
      /increasing/,
    );
  });

  it('gauges go up, down and are set', async () => {
    const registry = createMetricsRegistry();
    const gauge = registry.gauge({ name: 'test_open', help: 'Open' });
    gauge.inc({});
    gauge.inc({}, 4);
    gauge.inc({}, -2);
    expect(sampleValue(await render(registry), 'test_open')).toBe(3);
    gauge.set({}, 0.5);
    expect(sampleValue(await render(registry), 'test_open')).toBe(0.5);
  });

  it('histograms write cumulative buckets, +Inf, sum and count', async () => {
    const registry = createMetricsRegistry();
    const histogram = registry.histogram({
      name: 'test_seconds',
      help: 'Time',
      labels: { protocol: ['v1'] },
      buckets: [0.1, 1],
    });
    for (const value of [0.05, 0.1, 0.5, 3]) histogram.observe({ protocol: 'v1' }, value);
    histogram.observe({ protocol: 'v1' }, Number.POSITIVE_INFINITY); // ignored
    const families = await render(registry);
    const at = (le: string) => sampleValue(families, 'test_seconds_bucket', { protocol: 'v1', le });
    expect([at('0.1'), at('1'), at('+Inf')]).toEqual([2, 3, 4]);
    expect(sampleValue(families, 'test_seconds_count', { protocol: 'v1' })).toBe(4);
    expect(sampleValue(families, 'test_seconds_sum', { protocol: 'v1' })).toBeCloseTo(3.65);
  });

  it('reads collected gauges at each collection, leaves out what could not be read, merges others', async () => {
    const registry = createMetricsRegistry();
    let reading: number | undefined = 7;
    registry.collectedGauge({ name: 'test_backlog', help: 'Backlog' }, async (context) => {
      expect(context).toEqual({ database: 'db' });
      return reading === undefined ? undefined : [{ labels: {}, value: reading }];
    });
    registry.collectedGauge(
      { name: 'test_states', help: 'States', labels: { state: ['a'] } },
      async () => [
        { labels: { state: 'a' }, value: 1 },
        { labels: { state: 'x' }, value: 2 },
        { labels: { state: 'y' }, value: 3 },
      ],
    );
    let families = await render(registry, { database: 'db' });
    expect(sampleValue(families, 'test_backlog')).toBe(7);
    expect(sampleValue(families, 'test_states', { state: 'other' })).toBe(5);
    reading = undefined;
    families = await render(registry, { database: 'db' });
    expect(families.has('test_backlog')).toBe(false);
    expect(families.has('test_states')).toBe(true);
  });
});

describe('Prometheus text', () => {
  it('escapes help and label values so nothing starts a line of its own', () => {
    const text = serializePrometheusText([
      {
        name: 'x',
        help: 'a \\ b\nc',
        type: 'gauge',
        samples: [{ name: 'x', labels: { l: 'q"\\\n# TYPE y counter' }, value: 1 }],
      },
    ]);
    expect(text).toBe(
      '# HELP x a \\\\ b\\nc\n# TYPE x gauge\nx{l="q\\"\\\\\\n# TYPE y counter"} 1\n',
    );
    const families = parsePrometheusText(text);
    expect(families.get('x')?.samples[0]?.labels.l).toBe('q"\\\n# TYPE y counter');
    expect(families.has('y')).toBe(false);
  });

  it('writes special floats as Prometheus reads them', () => {
    const text = serializePrometheusText([
      {
        name: 'f',
        help: 'f',
        type: 'gauge',
        samples: [
          { name: 'f', labels: { v: 'a' }, value: Number.POSITIVE_INFINITY },
          { name: 'f', labels: { v: 'b' }, value: Number.NEGATIVE_INFINITY },
          { name: 'f', labels: { v: 'c' }, value: Number.NaN },
          { name: 'f', labels: { v: 'd' }, value: 1e-7 },
        ],
      },
    ]);
    expect(text).toContain('f{v="a"} +Inf\n');
    expect(text).toContain('f{v="b"} -Inf\n');
    expect(text).toContain('f{v="c"} NaN\n');
    expect(() => parsePrometheusText(text)).not.toThrow();
    expect(serializePrometheusText([])).toBe('');
  });

  it('the test parser refuses what a scraper would (it can fail)', () => {
    expect(() => parsePrometheusText('x 1\n')).toThrow(/before any family/);
    expect(() => parsePrometheusText('# HELP x x\n# TYPE x gauge\ny 1\n')).toThrow(/family/);
    expect(() => parsePrometheusText('# HELP x x\n# TYPE x gauge\nx{a="1} 1\n')).toThrow();
    expect(() => parsePrometheusText('# HELP x x\n# TYPE x gauge\nx one\n')).toThrow(/float/);
    expect(() =>
      parsePrometheusText('# HELP x x\n# TYPE x gauge\nx{a="1"} 1\nx{a="1"} 2\n'),
    ).toThrow(/twice/);
    expect(() =>
      parsePrometheusText(
        '# HELP h h\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      ),
    ).toThrow(/cumulative/);
  });
});
