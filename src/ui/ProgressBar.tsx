import { cells, formatCount, formatDuration, formatRate, pad, type Line } from './format.ts';
import { Lines } from './Lines.tsx';
import type { ProgressView } from './state.ts';

export interface ProgressBarProps {
  progress: ProgressView;
  idWidth: number;
  width: number;
  color: boolean;
}

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
const MIN_BAR = 8;
const MAX_BAR = 40;

/** A bar of `width` cells, filled to `fraction` with eighth-cell resolution. */
export function bar(fraction: number, width: number): { filled: string; empty: string } {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const eighths = Math.round(f * width * 8);
  const full = Math.floor(eighths / 8);
  const part = EIGHTHS[eighths % 8];
  const filled = '█'.repeat(full) + part;
  return { filled, empty: '░'.repeat(Math.max(0, width - full - (part ? 1 : 0))) };
}

/**
 * `  features  ██████░░░░  45%  1.2k/2.7k clips  56.1 clips/s  ETA 26s`. When narrow, the
 * count goes first, then the rate; the bar shrinks down to 8 cells.
 */
export function progressLine({ progress, idWidth, width }: Omit<ProgressBarProps, 'color'>): Line {
  const fraction = progress.total > 0 ? progress.done / progress.total : 0;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const count = `${formatCount(progress.done)}/${formatCount(progress.total)} ${progress.unit}`;
  const rate = formatRate(progress.rate, progress.unit);
  const eta = progress.done >= progress.total ? 'finishing' : `ETA ${progress.etaMs === undefined ? '–' : formatDuration(progress.etaMs)}`;
  const label = `  ${pad(progress.stage, idWidth)}  `;
  const fixed = cells(label) + 2 + cells(percent) + 2 + cells(eta);
  let optional = [count, rate];
  while (optional.length && fixed + MIN_BAR + optional.reduce((n, part) => n + 2 + cells(part), 0) > width) optional = optional.slice(1);
  const room = width - fixed - optional.reduce((n, part) => n + 2 + cells(part), 0);
  const { filled, empty } = bar(fraction, Math.max(MIN_BAR, Math.min(MAX_BAR, room)));
  return [
    { text: label },
    { text: filled, tone: 'running' },
    { text: empty, tone: 'muted' },
    { text: `  ${percent}` },
    ...optional.map((part) => ({ text: `  ${part}`, tone: 'muted' as const })),
    { text: `  ${eta}` },
  ];
}

export function ProgressBar(props: ProgressBarProps) {
  return <Lines lines={[progressLine(props)]} width={props.width} color={props.color} />;
}
