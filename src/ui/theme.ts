import type { Tone } from './format.ts';

/**
 * Colours only where they help (status, warnings) and never when NO_COLOR is set
 * (https://no-color.org) or the terminal is "dumb". FORCE_COLOR=0 also turns them off.
 */
export function colorEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  if (env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false') return false;
  return true;
}

/** SGR open/close codes per tone: the same colours Ink's `color`/`dimColor`/`bold` would give. */
const SGR: Record<Tone, [string, string]> = {
  ok: ['\u001b[32m', '\u001b[39m'],
  cached: ['\u001b[36m', '\u001b[39m'],
  running: ['\u001b[33m', '\u001b[39m'],
  fail: ['\u001b[31m', '\u001b[39m'],
  warn: ['\u001b[33m', '\u001b[39m'],
  muted: ['\u001b[2m', '\u001b[22m'],
  accent: ['\u001b[1m', '\u001b[22m'],
};

/**
 * Text in its tone's colour; unchanged without colour. Lines are painted as one string
 * rather than nested Ink <Text color=…> elements: a frame then has one element per line,
 * which keeps Ink's (and React's) per-frame work small.
 */
export function paint(text: string, tone: Tone | undefined, color: boolean): string {
  if (!tone || !color || !text) return text;
  const [open, close] = SGR[tone];
  return open + text + close;
}
