import { wrapWords, type Line } from './format.ts';
import { Lines } from './Lines.tsx';

export interface StoppingNoticeProps {
  /** The stages being stopped (running now). */
  running: string[];
  width: number;
  color: boolean;
  maxRows?: number;
}

/**
 * After the first Ctrl-C: what is being stopped and what the user can do next, word-wrapped
 * (not cut) because every part of it matters.
 */
export function stoppingNoticeLines({ running, width, maxRows = Infinity }: Omit<StoppingNoticeProps, 'color'>): Line[] {
  const what = running.length ? running.map((id) => `${id} (running)`).join(', ') : 'no stage is running';
  const text = `stopping: ${what} … finished stages stay cached; run the same command again to resume; Ctrl-C again to force`;
  return wrapWords(text, width).slice(0, maxRows).map((line): Line => [{ text: line, tone: 'warn' }]);
}

export function StoppingNotice(props: StoppingNoticeProps) {
  return <Lines lines={stoppingNoticeLines(props)} width={props.width} color={props.color} />;
}
