import { formatDuration } from '../cli/output.ts';

/**
 * The dashboard's components build their output as lines of styled segments first (pure,
 * width-aware, testable as text), then render them with Ink. A line never exceeds the width
 * it was built for, so a terminal never wraps it and Ink's cursor arithmetic stays right.
 */
export type Tone = 'ok' | 'cached' | 'running' | 'fail' | 'muted' | 'warn' | 'accent';
export interface Segment {
  text: string;
  tone?: Tone;
}
export type Line = Segment[];

export { formatDuration };

/** Number of terminal cells; xp's glyphs are all single-width. */
export function cells(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Cut to `width` cells, ending with "…" when something was cut. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  const chars = [...text];
  if (chars.length <= width) return text;
  return chars.slice(0, Math.max(0, width - 1)).join('') + '…';
}

export function pad(text: string, width: number): string {
  const t = truncate(text, width);
  return t + ' '.repeat(Math.max(0, width - cells(t)));
}

export function padStart(text: string, width: number): string {
  const t = truncate(text, width);
  return ' '.repeat(Math.max(0, width - cells(t))) + t;
}

export function lineWidth(line: Line): number {
  return line.reduce((sum, segment) => sum + cells(segment.text), 0);
}

export function lineText(line: Line): string {
  return line.map((segment) => segment.text).join('');
}

/** Cut a styled line to `width` cells (the last visible cell becomes "…"). Trailing spaces go. */
export function fitLine(line: Line, width: number): Line {
  const out: Line = [];
  if (lineWidth(line) <= width) {
    out.push(...line);
  } else {
    let left = width - 1;
    for (const segment of line) {
      if (left <= 0) break;
      const chars = [...segment.text];
      if (chars.length <= left) {
        out.push(segment);
        left -= chars.length;
      } else {
        out.push({ ...segment, text: chars.slice(0, left).join('') });
        left = 0;
      }
    }
    out.push({ text: '…', tone: out[out.length - 1]?.tone });
  }
  // Trailing blanks make snapshots brittle and help nobody.
  while (out.length && out[out.length - 1].text.trimEnd() === '') out.pop();
  if (out.length) out[out.length - 1] = { ...out[out.length - 1], text: out[out.length - 1].text.trimEnd() };
  return out;
}

/** Greedy word wrap into lines of at most `width` cells (a word longer than that is cut). */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const candidate = current ? `${current} ${word}` : word;
    if (cells(candidate) <= width) {
      current = candidate;
    } else {
      if (current) lines.push(current);
      current = truncate(word, width);
    }
  }
  if (current) lines.push(current);
  return lines;
}

/** A metric value: integers as they are, others with four decimals (or 4 significant digits when large). */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  if (Math.abs(value) >= 1000) return value.toFixed(1);
  return value.toFixed(4);
}

/** Compact number for counts and rates: 3, 14.2, 1.23k. */
export function formatCount(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(abs >= 1e7 ? 0 : 1)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(abs >= 1e5 ? 0 : 1)}k`;
  if (Number.isInteger(value) || abs >= 100) return String(Math.round(value));
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${Math.round(bytes / 1024 ** 2)} MB`;
  return `${Math.round(bytes / 1024)} kB`;
}

/** "batches" → "batch", "clips" → "clip", "epochs" → "epoch". */
export function singular(unit: string): string {
  if (/(ch|sh|x|ss)es$/.test(unit)) return unit.slice(0, -2);
  if (unit.endsWith('s') && !unit.endsWith('ss')) return unit.slice(0, -1);
  return unit;
}

/** Units per second, or seconds per unit when slower than one a second: "14.2 clips/s", "42s/epoch". */
export function formatRate(perSecond: number | undefined, unit: string): string {
  if (perSecond === undefined || !Number.isFinite(perSecond) || perSecond <= 0) return `– ${unit}/s`;
  if (perSecond >= 1) return `${formatCount(perSecond)} ${unit}/s`;
  return `${formatDuration(1000 / perSecond)}/${singular(unit)}`;
}
