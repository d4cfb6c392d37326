import { formatValue, pad, type Line } from './format.ts';
import { Lines } from './Lines.tsx';

const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/**
 * Values as unicode blocks, `width` cells at most. More values than cells are averaged into
 * buckets, so the whole curve stays visible; a flat series sits in the middle.
 */
export function sparkline(values: number[], width: number): string {
  const finite = values.filter(Number.isFinite);
  if (width <= 0 || finite.length === 0) return '';
  const buckets = values.length <= width ? values.map((v) => [v]) : bucketed(values, width);
  const points = buckets.map((bucket) => {
    const ok = bucket.filter(Number.isFinite);
    return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
  });
  const ok = points.filter(Number.isFinite);
  const lo = Math.min(...ok);
  const hi = Math.max(...ok);
  return points
    .map((p) => {
      if (!Number.isFinite(p)) return ' ';
      if (hi === lo) return BLOCKS[3];
      return BLOCKS[Math.min(7, Math.floor(((p - lo) / (hi - lo)) * 8))];
    })
    .join('');
}

function bucketed(values: number[], width: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < width; i++) out.push(values.slice(Math.floor((i * values.length) / width), Math.floor(((i + 1) * values.length) / width)));
  return out;
}

/** Losses go down, everything else (accuracy, F1, AUC) up. */
export function lowerIsBetter(metric: string): boolean {
  return /loss|error|err$|mse|mae/i.test(metric);
}

export interface SparklineProps {
  label: string;
  values: number[];
  /** The step of each value (epoch numbers); default 1, 2, 3… */
  steps?: number[];
  width: number;
  color: boolean;
}

/** `    val_f1        ▁▂▃▅▆▇▇██  0.8123  best 0.8200 @ 14` (the best goes first when narrow). */
export function sparklineLine({ label, values, steps, width }: Omit<SparklineProps, 'color'>): Line {
  const last = values[values.length - 1];
  const lastText = last === undefined ? '–' : formatValue(last);
  const finite = values.filter(Number.isFinite);
  let best = '';
  if (finite.length > 1) {
    const lower = lowerIsBetter(label);
    const value = lower ? Math.min(...finite) : Math.max(...finite);
    const index = values.indexOf(value);
    best = `best ${formatValue(value)} @ ${steps?.[index] ?? index + 1}`;
  }
  const head = `    ${pad(label, 14)}`;
  const tail = `  ${lastText}`;
  const withBest = best && width - head.length - tail.length - best.length - 2 >= 12;
  const room = width - head.length - tail.length - (withBest ? best.length + 2 : 0);
  const spark = sparkline(values, Math.max(4, Math.min(60, room)));
  return [
    { text: head, tone: 'muted' },
    { text: spark, tone: lowerIsBetter(label) ? 'cached' : 'ok' },
    { text: tail, tone: 'accent' },
    ...(withBest ? [{ text: `  ${best}`, tone: 'muted' as const }] : []),
  ];
}

export function Sparkline(props: SparklineProps) {
  return <Lines lines={[sparklineLine(props)]} width={props.width} color={props.color} />;
}
