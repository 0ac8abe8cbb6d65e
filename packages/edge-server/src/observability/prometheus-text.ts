import type { MetricFamily } from './metrics-registry.ts';

/**
 * The Prometheus text exposition format, version 0.0.4: what every Prometheus-compatible scraper
 * (Prometheus, VictoriaMetrics, Grafana Agent/Alloy, the OpenTelemetry collector) reads.
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 */
export const PROMETHEUS_TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * The families as text: per family `# HELP`, `# TYPE`, then one line per sample,
 * `name{label="value",...} value`. Help text escapes `\` and line breaks; label values escape
 * `\`, `"` and line breaks, so no value can start a line of its own.
 *
 * @example
 * serializePrometheusText([{ name: 'up', help: 'Up', type: 'gauge', samples: [{ name: 'up', labels: {}, value: 1 }] }]);
 * // '# HELP up Up\n# TYPE up gauge\nup 1\n'
 */
export function serializePrometheusText(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      const labels = Object.entries(sample.labels)
        .map(([name, value]) => `${name}="${escapeLabelValue(value)}"`)
        .join(',');
      lines.push(
        `${sample.name}${labels === '' ? '' : `{${labels}}`} ${formatValue(sample.value)}`,
      );
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\r?\n|\r/g, '\\n');
}

function escapeLabelValue(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\r?\n|\r/g, '\\n');
}

/** Go's float formatting as Prometheus reads it: `+Inf`, `-Inf`, `NaN`, else the number. */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
