import { cells, formatDuration, lineWidth, type Line, type Segment } from './format.ts';
import { Lines } from './Lines.tsx';

export interface RunHeaderProps {
  runId?: string;
  spec?: string;
  elapsedMs?: number;
  finishedStages: number;
  totalStages: number;
  width: number;
  color: boolean;
}

/**
 * `xp · toy · run 20260101-120000-toy-ab12 · 12.3s · 1 of 3 stages finished`; on a narrow
 * terminal the stage count goes, then the elapsed time, and the run id is cut last.
 */
export function runHeaderLine({ runId, spec, elapsedMs, finishedStages, totalStages, width }: Omit<RunHeaderProps, 'color'>): Line {
  if (!runId) return [{ text: 'xp · waiting for the run to start…', tone: 'muted' }];
  const line: Line = [{ text: 'xp · ' }, { text: spec ?? '', tone: 'accent' }, { text: ` · run ${runId}` }];
  const optional: Segment[] = [
    { text: ` · ${formatDuration(elapsedMs ?? 0)}`, tone: 'muted' },
    { text: ` · ${finishedStages} of ${totalStages} stages finished`, tone: 'muted' },
  ];
  for (const segment of optional) {
    if (lineWidth(line) + cells(segment.text) > width) break;
    line.push(segment);
  }
  return line;
}

export function RunHeader(props: RunHeaderProps) {
  return <Lines lines={[runHeaderLine(props)]} width={props.width} color={props.color} />;
}
