import type { RunStatus } from '../runner/events.ts';
import { formatDuration, formatValue, lineWidth, pad, wrapWords, type Line, type Tone } from './format.ts';
import { Lines } from './Lines.tsx';
import type { StageView } from './state.ts';

export interface EndSummaryProps {
  runId: string;
  status: RunStatus;
  durationMs: number;
  /** Flattened `<stage>.<metric>`; `<m>_lo`/`<m>_hi` are shown as the interval of `<m>`. */
  metrics: Record<string, number>;
  stages: StageView[];
  /** Relative path of the run's plots, when it has any. */
  plotsDir?: string;
  width: number;
  color: boolean;
  maxRows?: number;
}

const STATUS_TONE: Record<RunStatus, Tone> = { done: 'ok', failed: 'fail', interrupted: 'warn', running: 'running' };

/** `eval.f1 0.8123 [0.7901, 0.8345]`: a metric with its `_lo`/`_hi` companions as one row. */
export function metricRows(metrics: Record<string, number>): { name: string; text: string }[] {
  const rows: { name: string; text: string }[] = [];
  const companion = (name: string) => {
    const m = name.match(/^(.*)_(lo|hi)$/);
    return !!m && metrics[`${m[1]}_lo`] !== undefined && metrics[`${m[1]}_hi`] !== undefined && metrics[m[1]] !== undefined;
  };
  for (const [name, value] of Object.entries(metrics)) {
    if (companion(name)) continue;
    const lo = metrics[`${name}_lo`];
    const hi = metrics[`${name}_hi`];
    const interval = lo !== undefined && hi !== undefined ? ` [${formatValue(lo)}, ${formatValue(hi)}]` : '';
    rows.push({ name, text: `${formatValue(value)}${interval}` });
  }
  return rows;
}

/**
 * ```
 * run 20260101-120000-toy-ab12 done in 3.4s · 1 of 3 stages from cache
 * metrics:
 *   eval.f1     0.8123 [0.7901, 0.8345]
 * record: runs/<id>/run.json
 * plots:  runs/<id>/plots/
 * ```
 */
export function endSummaryLines(props: Omit<EndSummaryProps, 'color'>): Line[] {
  const { runId, status, durationMs, metrics, stages, plotsDir, width, maxRows = Infinity } = props;
  const cached = stages.filter((s) => s.status === 'cached').length;
  const verb = status === 'done' ? 'done in' : `${status} after`;
  const cache = `${cached} of ${stages.length} stage${stages.length === 1 ? '' : 's'} from cache`;
  const first: Line = [
    { text: 'run ' },
    { text: runId, tone: 'accent' },
    { text: ` ${verb} ${formatDuration(durationMs)}`, tone: STATUS_TONE[status] },
  ];
  // The cache count goes on its own line rather than being cut off.
  const fits = lineWidth(first) + cache.length + 3 <= width;
  const head: Line[] = fits ? [[...first, { text: ` · ${cache}`, tone: 'muted' }]] : [first, [{ text: `  ${cache}`, tone: 'muted' }]];
  for (const stage of stages.filter((s) => s.status === 'failed')) {
    const stopped = stage.error === 'interrupted';
    head.push([
      { text: `  ${stopped ? 'stopped' : 'failed'}: ${stage.id}`, tone: stopped ? 'warn' : 'fail' },
      { text: stage.error && !stopped ? ` — ${stage.error.split('\n')[0]}` : '' },
    ]);
  }
  if (status === 'interrupted') {
    for (const text of wrapWords('finished stages stay cached; run the same command again to resume', width - 2)) head.push([{ text: `  ${text}`, tone: 'muted' }]);
  }
  const tail: Line[] = [[{ text: `record: runs/${runId}/run.json`, tone: 'muted' }]];
  if (plotsDir) tail.push([{ text: `plots:  ${plotsDir}`, tone: 'muted' }]);

  const rows = metricRows(metrics);
  const nameWidth = Math.min(28, Math.max(0, ...rows.map((r) => r.name.length)));
  let metricLines: Line[] = rows.map((r) => [{ text: `  ${pad(r.name, nameWidth)}  ` }, { text: r.text, tone: 'accent' }]);
  const room = maxRows - head.length - tail.length - 1;
  if (metricLines.length > room) {
    const keep = Math.max(0, room - 1);
    metricLines = [...metricLines.slice(0, keep), [{ text: `  … ${rows.length - keep} more: xp show ${runId}`, tone: 'muted' }]];
  }
  const body: Line[] = rows.length && room > 0 ? [[{ text: 'metrics:' }], ...metricLines] : [];
  return [...head, ...body, ...tail].slice(0, maxRows);
}

export function EndSummary(props: EndSummaryProps) {
  return <Lines lines={endSummaryLines(props)} width={props.width} color={props.color} />;
}
