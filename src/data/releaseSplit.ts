/**
 * A Common Voice release's own split: which clips its train.tsv, dev.tsv and
 * test.tsv list. Using it makes results comparable with other work on the same
 * release. Only the `path` column is read; a clip listed twice (in one file or
 * across files) is a corrupt release and raises a DataError.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError } from './errors.ts';
import type { SplitName } from './split.ts';
import { detach, openTsv } from './tsv.ts';

/** TSV file names per split; Common Voice calls validation "dev". */
export interface ReleaseSplitFiles {
  train: string;
  val: string;
  test: string;
}

export const DEFAULT_RELEASE_FILES: ReleaseSplitFiles = { train: 'train.tsv', val: 'dev.tsv', test: 'test.tsv' };

export interface ReleaseMembership {
  /** Clip path → split. */
  membership: Map<string, SplitName>;
  /** Rows listed per split. */
  counts: Record<SplitName, number>;
}

export async function readReleaseMembership(
  root: string,
  files: ReleaseSplitFiles = DEFAULT_RELEASE_FILES,
  signal?: AbortSignal,
): Promise<ReleaseMembership> {
  const membership = new Map<string, SplitName>();
  const lineOf = new Map<string, number>();
  const counts: Record<SplitName, number> = { train: 0, val: 0, test: 0 };
  for (const split of ['train', 'val', 'test'] as const) {
    const file = join(root, files[split]);
    try {
      await access(file);
    } catch {
      throw new DataError({ file, message: `not found (split.by "release" needs the release's ${files.train}, ${files.val} and ${files.test})` });
    }
    const reader = await openTsv(file, { signal });
    const iPath = reader.indexOf('path');
    if (iPath < 0) {
      await reader.close();
      throw new DataError({ file, line: 1, message: `missing required column "path" (header has: ${reader.columns.join(', ')})` });
    }
    for await (const { line, fields } of reader.rows()) {
      const path = fields[iPath]!;
      const previous = membership.get(path);
      if (previous !== undefined) {
        const at = `${join(root, files[previous])}:${lineOf.get(path)}`;
        throw new DataError({ file, line, message: `clip "${path}" is already listed at ${at}` });
      }
      const kept = detach(path);
      lineOf.set(kept, line);
      membership.set(kept, split);
      counts[split]++;
    }
  }
  return { membership, counts };
}
