import { formatCount, formatValue, type Line } from './format.ts';
import { Lines } from './Lines.tsx';
import { sparklineLine } from './Sparkline.tsx';
import type { MetricSeries } from './state.ts';

export interface MetricsPanelProps {
  series: MetricSeries;
  width: number;
  color: boolean;
  /** Rows available, title included. */
  maxRows?: number;
}

/** Throughput and learning-rate numbers go in the title; they make poor curves to judge a model by. */
const IN_TITLE = ['samples_per_s', 'lr'];

/** Losses first, then validation metrics, then the rest, each group alphabetically. */
export function curveOrder(names: string[]): string[] {
  const rank = (n: string) => (n === 'loss' ? 0 : /loss/.test(n) ? 1 : n.startsWith('val_') ? 2 : 3);
  return names.filter((n) => !IN_TITLE.includes(n)).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/**
 * `  train · epoch 17 · 812 samples/s · lr 0.0010` then one sparkline per curve:
 * `    loss          ▇▆▅▄▃▃▂▂▁  0.4321  best 0.4100 @ 15`.
 */
export function metricsPanelLines({ series, width, maxRows = Infinity }: Omit<MetricsPanelProps, 'color'>): Line[] {
  if (maxRows <= 0) return [];
  const title: Line = [
    { text: `  ${series.stage}`, tone: 'accent' },
    { text: ` · ${series.series} ${series.lastStep}` },
  ];
  const throughput = series.latest.samples_per_s;
  if (throughput !== undefined) title.push({ text: ` · ${formatCount(throughput)} samples/s`, tone: 'muted' });
  if (series.latest.lr !== undefined) title.push({ text: ` · lr ${formatValue(series.latest.lr)}`, tone: 'muted' });
  const curves = curveOrder(Object.keys(series.values)).slice(0, Math.max(0, maxRows - 1));
  return [title, ...curves.map((name) => sparklineLine({ label: name, values: series.values[name], steps: series.steps[name], width }))];
}

export function MetricsPanel(props: MetricsPanelProps) {
  return <Lines lines={metricsPanelLines(props)} width={props.width} color={props.color} />;
}
