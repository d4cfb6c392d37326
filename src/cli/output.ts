import { fstatSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';

/** Everything the CLI prints goes through here, so commands stay testable and --json stays clean. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
  readonly isTTY: boolean;
}

/**
 * stdout and stderr, written with fs.writeSync rather than process.stdout/stderr: creating
 * those streams loads Node's stream and net modules, ~10 ms of a cached run's ~100. Writes to
 * files and pipes are synchronous either way on Linux and macOS, so the order is the same.
 */
export const processOutput: Output = {
  out: (text) => writeLine(1, text),
  err: (text) => writeLine(2, text),
  get isTTY() {
    return isTerminal(1);
  },
};

/** fds whose reader has gone. */
const closed = new Set<number>();

function writeLine(fd: number, text: string): void {
  if (closed.has(fd)) return;
  const bytes = Buffer.from(text.endsWith('\n') ? text : text + '\n');
  for (let offset = 0; offset < bytes.length; ) {
    try {
      offset += writeSync(fd, bytes, offset);
    } catch (error) {
      const { code } = error as NodeJS.ErrnoException;
      // A pipe made non-blocking by another user of the fd, and full: wait for the reader.
      if (code === 'EAGAIN') continue;
      // The reader went away (`xp ls | head -1`): stop printing, as a shell tool does.
      if (code === 'EPIPE') {
        closed.add(fd);
        return;
      }
      throw error;
    }
  }
}

/**
 * Only a character device can be a terminal: a pipe or a file is answered by one fstat, without
 * loading `tty` (its stream and net modules; the CLI bundle loads it lazily, scripts/bundle.mjs).
 */
function isTerminal(fd: number): boolean {
  try {
    return fstatSync(fd).isCharacterDevice() && isatty(fd);
  } catch {
    return false;
  }
}

/** A plain text table: columns padded to the widest cell, numbers right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^-?[\d.]+%?$|^$|^–$/.test(r[i] ?? '')));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '–';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}
