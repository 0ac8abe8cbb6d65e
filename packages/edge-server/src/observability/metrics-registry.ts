/**
 * A small metrics registry: counters, gauges and histograms whose labels come from fixed sets.
 *
 * Why not prom-client (or @hono/prometheus, which wraps it): it imports Node's `cluster`, `v8`,
 * `perf_hooks` and `process` at its entry, so it does not bundle for workerd without
 * `nodejs_compat`, and Bun and Deno only run it through their Node layers; the sync app must run
 * unchanged on all four (DESIGN.md). What strata exposes is a few dozen series, so a registry and
 * the text format (prometheus-text.ts) are a few hundred lines of plain code, tested on their own.
 *
 * Labels are declared with every value they may take: a value outside the set is counted as
 * `other`. So the number of series is fixed when the metric is declared, and no value a request
 * carries (a tenant, an id, a name) can ever become a label.
 */

/** The kinds of metric families the text format knows and this registry writes. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** One sample line: its full name (`x_bucket`, `x_sum`, ...), its labels and its value. */
export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A metric family as the text format writes it: `# HELP`, `# TYPE`, then its samples. */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly samples: readonly MetricSample[];
}

/** Each label's name and every value it may take (others become `other`). */
export type LabelSets<TLabel extends string> = { readonly [K in TLabel]: readonly string[] };

/** Label values of one series. */
export type Labels<TLabel extends string> = { readonly [K in TLabel]: string };

/** How a metric is declared. */
export interface MetricDefinition<TLabel extends string = never> {
  /** `[a-zA-Z_:][a-zA-Z0-9_:]*`; counters end in `_total`. */
  readonly name: string;
  readonly help: string;
  readonly labels?: LabelSets<TLabel>;
}

/** A value that only goes up (per process or isolate, from zero at its start). */
export interface Counter<TLabel extends string = never> {
  inc(labels: Labels<TLabel>, by?: number): void;
}

/** A value that goes up and down. */
export interface Gauge<TLabel extends string = never> {
  set(labels: Labels<TLabel>, value: number): void;
  inc(labels: Labels<TLabel>, by?: number): void;
}

/** Observations counted in cumulative buckets, with their sum and count. */
export interface Histogram<TLabel extends string = never> {
  observe(labels: Labels<TLabel>, value: number): void;
}

/** Samples of a gauge read when the registry is collected (e.g. a count from the database). */
export type GaugeReading<TLabel extends string = never> = readonly {
  readonly labels: Labels<TLabel>;
  readonly value: number;
}[];

/** Registers metrics and collects them for a scrape. */
export interface MetricsRegistry {
  counter<TLabel extends string = never>(definition: MetricDefinition<TLabel>): Counter<TLabel>;
  gauge<TLabel extends string = never>(definition: MetricDefinition<TLabel>): Gauge<TLabel>;
  histogram<TLabel extends string = never>(
    definition: MetricDefinition<TLabel> & { readonly buckets: readonly number[] },
  ): Histogram<TLabel>;
  /**
   * A gauge whose samples `read` gives at each collection; `undefined` leaves the family out
   * (e.g. a count that could not be read this time).
   */
  collectedGauge<TLabel extends string = never>(
    definition: MetricDefinition<TLabel>,
    read: (context: unknown) => Promise<GaugeReading<TLabel> | undefined>,
  ): void;
  /** Every family, in declaration order; `context` is handed to the collected gauges. */
  collect(context?: unknown): Promise<MetricFamily[]>;
}

/** The label value a value outside its declared set is counted as. */
export const OTHER_LABEL_VALUE = 'other';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  samples(context: unknown): Promise<readonly MetricSample[] | undefined>;
}

/**
 * An empty registry.
 *
 * @example
 * const registry = createMetricsRegistry();
 * const pushes = registry.counter({ name: 'app_pushes_total', help: 'Pushes', labels: { protocol: ['v1', 'v2'] } });
 * pushes.inc({ protocol: 'v1' });
 * const text = serializePrometheusText(await registry.collect());
 */
export function createMetricsRegistry(): MetricsRegistry {
  const families: Family[] = [];
  const names = new Set<string>();

  function declare<TLabel extends string>(definition: MetricDefinition<TLabel>) {
    if (!METRIC_NAME.test(definition.name)) {
      throw new RangeError(`Not a metric name: ${definition.name}`);
    }
    if (names.has(definition.name)) {
      throw new RangeError(`A metric named ${definition.name} exists already`);
    }
    const labelSets = (definition.labels ?? {}) as Readonly<Record<string, readonly string[]>>;
    for (const label of Object.keys(labelSets)) {
      if (!LABEL_NAME.test(label) || label.startsWith('__') || label === 'le') {
        throw new RangeError(`Not a label name for ${definition.name}: ${label}`);
      }
    }
    names.add(definition.name);
    const labelNames = Object.keys(labelSets).sort();
    const allowed = new Map(labelNames.map((label) => [label, new Set(labelSets[label])]));
    /** The series' labels, each value kept only when declared. */
    const bounded = (labels: Readonly<Record<string, string>>): Record<string, string> => {
      const result: Record<string, string> = {};
      for (const label of labelNames) {
        const value = labels[label];
        result[label] =
          value !== undefined && allowed.get(label)?.has(value) === true
            ? value
            : OTHER_LABEL_VALUE;
      }
      return result;
    };
    return { bounded, keyOf: (labels: Record<string, string>) => JSON.stringify(labels) };
  }

  function valueSeries<TLabel extends string>(
    definition: MetricDefinition<TLabel>,
    type: 'counter' | 'gauge',
  ) {
    const { bounded, keyOf } = declare(definition);
    const series = new Map<string, { labels: Record<string, string>; value: number }>();
    const entry = (labels: Readonly<Record<string, string>>) => {
      const kept = bounded(labels);
      const key = keyOf(kept);
      let found = series.get(key);
      if (found === undefined) {
        found = { labels: kept, value: 0 };
        series.set(key, found);
      }
      return found;
    };
    families.push({
      name: definition.name,
      help: definition.help,
      type,
      samples: async () =>
        [...series.values()].map(({ labels, value }) => ({ name: definition.name, labels, value })),
    });
    return entry;
  }

  return {
    counter<TLabel extends string = never>(definition: MetricDefinition<TLabel>) {
      const entry = valueSeries(definition, 'counter');
      return {
        inc(labels, by = 1) {
          // A counter never goes down: a negative or non-finite step is a bug of the caller.
          if (!Number.isFinite(by) || by < 0) {
            throw new RangeError(`${definition.name} only counts up, not by ${by}`);
          }
          entry(labels).value += by;
        },
      };
    },
    gauge<TLabel extends string = never>(definition: MetricDefinition<TLabel>) {
      const entry = valueSeries(definition, 'gauge');
      return {
        set(labels, value) {
          entry(labels).value = value;
        },
        inc(labels, by = 1) {
          entry(labels).value += by;
        },
      };
    },
    histogram<TLabel extends string = never>(
      definition: MetricDefinition<TLabel> & { readonly buckets: readonly number[] },
    ) {
      const { bounded, keyOf } = declare(definition);
      const bounds = [...definition.buckets];
      if (
        bounds.length === 0 ||
        bounds.some(
          (bound, index) => !Number.isFinite(bound) || bound <= (bounds[index - 1] ?? -Infinity),
        )
      ) {
        throw new RangeError(`${definition.name}: buckets must be finite and increasing`);
      }
      const series = new Map<
        string,
        { labels: Record<string, string>; counts: number[]; sum: number; count: number }
      >();
      families.push({
        name: definition.name,
        help: definition.help,
        type: 'histogram',
        samples: async () =>
          [...series.values()].flatMap(({ labels, counts, sum, count }) => {
            // Buckets are cumulative in the text format: each counts every value at or below it.
            let cumulative = 0;
            const buckets = bounds.map((bound, index) => {
              cumulative += counts[index] ?? 0;
              return {
                name: `${definition.name}_bucket`,
                labels: { ...labels, le: String(bound) },
                value: cumulative,
              };
            });
            return [
              ...buckets,
              {
                name: `${definition.name}_bucket`,
                labels: { ...labels, le: '+Inf' },
                value: count,
              },
              { name: `${definition.name}_sum`, labels, value: sum },
              { name: `${definition.name}_count`, labels, value: count },
            ];
          }),
      });
      return {
        observe(labels, value) {
          if (!Number.isFinite(value)) return; // nothing sensible to count
          const kept = bounded(labels);
          const key = keyOf(kept);
          let found = series.get(key);
          if (found === undefined) {
            found = { labels: kept, counts: bounds.map(() => 0), sum: 0, count: 0 };
            series.set(key, found);
          }
          const index = bounds.findIndex((bound) => value <= bound);
          if (index >= 0) found.counts[index] = (found.counts[index] ?? 0) + 1;
          found.sum += value;
          found.count += 1;
        },
      };
    },
    collectedGauge<TLabel extends string = never>(
      definition: MetricDefinition<TLabel>,
      read: (context: unknown) => Promise<GaugeReading<TLabel> | undefined>,
    ) {
      const { bounded, keyOf } = declare(definition);
      families.push({
        name: definition.name,
        help: definition.help,
        type: 'gauge',
        async samples(context) {
          const reading = await read(context);
          if (reading === undefined) return undefined;
          // Readings whose labels fell to `other` are one series: their values add up.
          const series = new Map<string, MetricSample>();
          for (const { labels, value } of reading) {
            const kept = bounded(labels);
            const key = keyOf(kept);
            const found = series.get(key);
            series.set(key, {
              name: definition.name,
              labels: kept,
              value: (found?.value ?? 0) + value,
            });
          }
          return [...series.values()];
        },
      });
    },
    async collect(context) {
      const collected: MetricFamily[] = [];
      for (const family of families) {
        const samples = await family.samples(context);
        if (samples === undefined) continue;
        collected.push({ name: family.name, help: family.help, type: family.type, samples });
      }
      return collected;
    },
  };
}
