import type { Line } from './format.ts';
import { Lines } from './Lines.tsx';
import { stageLine } from './StageLine.tsx';
import type { StageView } from './state.ts';

export interface StageListProps {
  /** The stages still to finish (running and pending), in plan order. */
  stages: StageView[];
  idWidth: number;
  width: number;
  now: number;
  color: boolean;
  /** Rows available; running stages keep theirs, pending ones collapse into "… n more". */
  maxRows?: number;
}

export function stageListLines({ stages, idWidth, width, now, maxRows = Infinity }: Omit<StageListProps, 'color'>): Line[] {
  if (maxRows <= 0 || stages.length === 0) return [];
  if (stages.length <= maxRows) return stages.map((stage) => stageLine({ stage, idWidth, width, now }));
  const running = stages.filter((s) => s.status === 'running');
  const shown = running.length >= maxRows - 1 ? running.slice(0, maxRows - 1) : stages.slice(0, maxRows - 1);
  const visible = new Set(shown.map((s) => s.id));
  const ordered = stages.filter((s) => visible.has(s.id));
  return [
    ...ordered.map((stage) => stageLine({ stage, idWidth, width, now })),
    [{ text: `  … ${stages.length - ordered.length} more`, tone: 'muted' }],
  ];
}

export function StageList(props: StageListProps) {
  return <Lines lines={stageListLines(props)} width={props.width} color={props.color} />;
}
