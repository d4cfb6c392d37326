/** Shared paths and helpers for the data tests. */
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { SHARED_DATA } from '../fixtures/paths.ts';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Real fixtures shared between checkouts (see tests/fixtures/paths.ts for where they are looked up). */
export const sharedData = SHARED_DATA;
export const cvFaSample = join(sharedData, 'cv-fa-sample');
export const cvMini = join(repoRoot, 'data', 'cv-mini');

export function requireDir(dir: string): string {
  if (!existsSync(dir)) throw new Error(`test fixture missing: ${dir}`);
  return dir;
}

/** A temp directory removed after the test file finishes. */
export function tempDir(prefix = 'xp-data-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const HEADER = 'client_id\tpath\tsentence\tup_votes\tdown_votes\tage\tgender\taccents\tvariant\tlocale\tsegment';

/** Writes `<dir>/<name>` from lines (joined with '\n', trailing newline added). */
export function writeLines(dir: string, name: string, lines: string[]): string {
  const file = join(dir, name);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** One Common Voice row with the 11 classic columns. */
export function cvRow(r: { client: string; path: string; gender: string; up?: number | string; down?: number | string; sentence?: string }): string {
  return [r.client, r.path, r.sentence ?? 'A sentence.', String(r.up ?? 2), String(r.down ?? 0), '', r.gender, '', '', 'en', ''].join('\t');
}
