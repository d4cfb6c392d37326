import { formatValue, pad, padStart, type Line } from './format.ts';
import { Lines } from './Lines.tsx';
import type { TrialsView, TrialView } from './state.ts';

export interface LeaderboardProps {
  trials: TrialsView;
  metric: string;
  mode: 'max' | 'min';
  width: number;
  color: boolean;
  /** Rows available, title included. */
  maxRows?: number;
  /** Hide the running trials (the run is over). */
  finished?: boolean;
}

/** `model.lstm.units` → `units`, numbers short: a row is read at a glance. */
export function formatParams(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([key, value]) => `${key.split('.').pop()}=${formatParam(value)}`)
    .join(' ');
}

function formatParam(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(3)));
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/**
 * ```
 *   search · 12 done · 2 running · 1 failed · 3 pruned        best val_f1 (max)
 *      #  trial  val_f1    params
 *      1     #7  0.8312    units=64 lr=0.001
 *      ▸     #9  epoch 3   units=128 lr=0.0003
 * ```
 */
export function leaderboardLines({ trials, metric, mode, width, maxRows = Infinity, finished = false }: Omit<LeaderboardProps, 'color'>): Line[] {
  if (maxRows <= 0) return [];
  const running = finished ? [] : trials.running;
  const counts = [
    `${trials.counts.done} done`,
    ...(running.length ? [`${running.length} running`] : []),
    ...(trials.counts.cached ? [`${trials.counts.cached} cached`] : []),
    ...(trials.counts.failed ? [`${trials.counts.failed} failed`] : []),
    ...(trials.counts.pruned ? [`${trials.counts.pruned} pruned`] : []),
  ];
  const title: Line = [
    { text: `  ${trials.stage}`, tone: 'accent' },
    { text: ` · trials: ${counts.join(' · ')}` },
    { text: ` · ranked by ${metric} (${mode})`, tone: 'muted' },
  ];
  if (maxRows === 1 || (trials.top.length === 0 && running.length === 0)) return [title];
  const metricWidth = Math.max(8, Math.min(14, metric.length));
  const header: Line = [{ text: `    ${padStart('#', 3)}  ${padStart('trial', 5)}  ${pad(metric, metricWidth)}  params`, tone: 'muted' }];
  const row = (rank: string, trial: TrialView, value: string, tone?: 'running'): Line => [
    { text: `    ${padStart(rank, 3)}  ${padStart(`#${trial.trial}`, 5)}  `, tone },
    { text: pad(value, metricWidth), tone: tone ?? 'accent' },
    { text: `  ${formatParams(trial.params)}`, tone: 'muted' },
  ];
  const rows: Line[] = trials.top.map((t, i) => row(String(i + 1), t, formatValue(t.objective!)));
  const room = maxRows - 2 - rows.length;
  if (room > 0 && running.length) {
    const shown = running.length > room ? running.slice(0, room - 1) : running;
    rows.push(...shown.map((t) => row('▸', t, t.epoch !== undefined ? `epoch ${t.epoch}` : 'starting', 'running')));
    if (shown.length < running.length) rows.push([{ text: `    … ${running.length - shown.length} more running`, tone: 'muted' }]);
  }
  return [title, header, ...rows].slice(0, maxRows);
}

export function Leaderboard(props: LeaderboardProps) {
  return <Lines lines={leaderboardLines(props)} width={props.width} color={props.color} />;
}
