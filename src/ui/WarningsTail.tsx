import type { Line } from './format.ts';
import { Lines } from './Lines.tsx';

export interface WarningsTailProps {
  /** The newest warnings, oldest first. */
  warnings: string[];
  /** All warnings so far (the run record keeps every one). */
  count: number;
  width: number;
  color: boolean;
  maxRows?: number;
}

/** `  warnings (7, newest last):` then the last few, one line each. */
export function warningsTailLines({ warnings, count, maxRows = Infinity }: Omit<WarningsTailProps, 'color' | 'width'>): Line[] {
  if (count === 0 || maxRows <= 0) return [];
  const shown = warnings.slice(-Math.max(0, maxRows - 1));
  const title = count > shown.length ? `  warnings (${count}, last ${shown.length}):` : `  warnings (${count}):`;
  return [[{ text: title, tone: 'warn' }], ...shown.map((w): Line => [{ text: '    ! ', tone: 'warn' }, { text: w.split('\n')[0] }])];
}

export function WarningsTail(props: WarningsTailProps) {
  return <Lines lines={warningsTailLines(props)} width={props.width} color={props.color} />;
}
