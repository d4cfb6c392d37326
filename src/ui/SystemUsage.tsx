import { cells, formatBytes, type Line } from './format.ts';
import { Lines } from './Lines.tsx';
import type { SystemSample } from './systemSampler.ts';

export interface SystemUsageProps {
  sample: SystemSample;
  width: number;
  color: boolean;
}

/** `  cpu 153% of 2 cores · load 1.92 · rss 412 MB · heap 96 MB · mem free 3.1 GB of 7.8 GB`, cut by whole parts. */
export function systemUsageLine({ sample, width }: Omit<SystemUsageProps, 'color'>): Line {
  const parts = [
    `cpu ${Math.round(sample.cpuPercent)}% of ${sample.cores} core${sample.cores === 1 ? '' : 's'}`,
    `load ${sample.load1.toFixed(2)}`,
    `rss ${formatBytes(sample.rssBytes)}`,
    `heap ${formatBytes(sample.heapUsedBytes)}`,
    `mem free ${formatBytes(sample.freeMemBytes)} of ${formatBytes(sample.totalMemBytes)}`,
  ];
  let text = '';
  for (const part of parts) {
    const next = text ? `${text} · ${part}` : `  ${part}`;
    if (cells(next) > width) break;
    text = next;
  }
  const busy = sample.cpuPercent > 90 * sample.cores;
  return [{ text, tone: busy ? 'warn' : 'muted' }];
}

export function SystemUsage(props: SystemUsageProps) {
  return <Lines lines={[systemUsageLine(props)]} width={props.width} color={props.color} />;
}
