import type { StageStatus } from '../runner/events.ts';
import { cells, formatDuration, lineWidth, pad, padStart, type Line, type Tone } from './format.ts';
import { Lines } from './Lines.tsx';
import type { StageView } from './state.ts';

export const STATUS_GLYPH: Record<StageStatus, string> = {
  pending: '·',
  running: '▸',
  done: '✓',
  cached: '✓',
  failed: '✗',
  skipped: '-',
};

export const STATUS_TONE: Record<StageStatus, Tone> = {
  pending: 'muted',
  running: 'running',
  done: 'ok',
  cached: 'cached',
  failed: 'fail',
  skipped: 'muted',
};

export interface StageLineProps {
  stage: StageView;
  /** Width of the id column, the same for every stage of the run so lines align. */
  idWidth: number;
  width: number;
  /** Epoch ms, for a running stage's elapsed time. */
  now: number;
  color: boolean;
}

/**
 * `✓ features  done     3f9a1c02b7de  12.4s  after ingest`. Columns drop from the right as
 * the terminal narrows: dependencies first, then the key; a failure's message always shows.
 */
export function stageLine({ stage, idWidth, width, now }: Omit<StageLineProps, 'color'>): Line {
  // Ctrl-C ends running stages as failed with "interrupted": say what happened instead.
  const stopped = wasStopped(stage);
  const tone = stopped ? 'warn' : STATUS_TONE[stage.status];
  const time =
    stage.status === 'running' && stage.startedAt !== undefined
      ? formatDuration(Math.max(0, now - stage.startedAt))
      : stage.status === 'pending' || stage.status === 'skipped'
        ? ''
        : formatDuration(stage.durationMs);
  const line: Line = [
    { text: `${STATUS_GLYPH[stage.status]} `, tone },
    { text: pad(stage.id, idWidth), tone: stage.status === 'running' ? 'accent' : undefined },
    { text: `  ${pad(stopped ? 'stopped' : stage.status, 7)}`, tone },
  ];
  const base = 2 + idWidth + 9;
  const withKey = width >= base + 14 + 9;
  if (withKey) line.push({ text: `  ${pad(stage.key?.slice(0, 12) ?? '', 12)}`, tone: 'muted' });
  line.push({ text: `  ${padStart(time, 7)}` });
  if (width >= 90 && stage.needs.length && stage.status !== 'failed') line.push({ text: `  after ${stage.needs.join(', ')}`, tone: 'muted' });
  return line;
}

/** The stage's line, and for a failure its message: on the same line when it fits whole, else below. */
export function stageLines(props: Omit<StageLineProps, 'color'>): Line[] {
  const line = stageLine(props);
  if (props.stage.status !== 'failed' || !props.stage.error || wasStopped(props.stage)) return [line];
  const message = props.stage.error.split('\n')[0];
  if (lineWidth(line) + 2 + cells(message) <= props.width) return [[...line, { text: `  ${message}`, tone: 'fail' }]];
  return [line, [{ text: `    ${message}`, tone: 'fail' }]];
}

export function wasStopped(stage: StageView): boolean {
  return stage.status === 'failed' && stage.error === 'interrupted';
}

export function StageLine(props: StageLineProps) {
  return <Lines lines={stageLines(props)} width={props.width} color={props.color} />;
}
