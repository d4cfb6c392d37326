/**
 * A problem found in a spec, located in the text the user wrote, and how to print it:
 *
 *   experiments/bad.yaml:12:3: unknown key "batch_sise" in train (did you mean "batch_size"?)
 *      12 |   batch_sise: 32
 *         |   ^^^^^^^^^^
 */
export interface SourceLocation {
  /** File path as shown to the user, or `--set` for command-line overrides. */
  file: string;
  /** Full text of the source (file contents or the `--set` argument). */
  text: string;
  /** Character offsets [start, end) of the offending span in `text`. */
  start: number;
  end: number;
}

export interface Diagnostic {
  message: string;
  location?: SourceLocation;
  hint?: string;
}

export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

export function formatDiagnostic(diagnostic: Diagnostic): string {
  const { location, message, hint } = diagnostic;
  const text = hint ? `${message} (${hint})` : message;
  if (!location) return text;
  if (location.file === '--set') return `--set ${location.text}: ${text}`;
  const { line, column } = lineAndColumn(location.text, location.start);
  const head = `${location.file}:${line}:${column}: ${text}`;
  const lineStart = location.text.lastIndexOf('\n', location.start - 1) + 1;
  let lineEnd = location.text.indexOf('\n', location.start);
  if (lineEnd === -1) lineEnd = location.text.length;
  const sourceLine = location.text.slice(lineStart, lineEnd).replace(/\r$/, '');
  const spanEnd = Math.min(Math.max(location.end, location.start + 1), lineStart + sourceLine.length);
  const width = Math.max(1, spanEnd - location.start);
  const gutter = String(line).length;
  return [
    head,
    `  ${String(line)} | ${sourceLine}`,
    `  ${' '.repeat(gutter)} | ${' '.repeat(column - 1)}${'^'.repeat(width)}`,
  ].join('\n');
}

/** Closest candidate by edit distance, if it is close enough to be a plausible typo. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  const limit = Math.max(1, Math.floor(word.length / 3));
  return best !== undefined && bestDistance <= limit ? best : undefined;
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}
