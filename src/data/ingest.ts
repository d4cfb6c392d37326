/**
 * From a Common Voice folder to a labelled, balanced, split list of clips.
 *
 * Pipeline (one streaming pass over the TSV):
 *   read rows → vote filter → gender mapping → seeded balanced subset
 *   (bounded heaps: memory ~ subset size, not file size) → split → path checks.
 * Rows that the subset cannot use are dropped as soon as they are read, so an
 * 864k-row validated.tsv never exists in memory as objects.
 *
 * Order of operations, and why:
 * - The subset is drawn before the split, so split fractions are fractions of
 *   the subset (what the experiment trains and tests on).
 * - With `split.by: 'release'` the release's train/dev/test lists are read
 *   first and rows outside them are dropped before the subset, so the subset
 *   is drawn only from clips the release assigned.
 * - Clip paths of selected rows are always checked lexically (no absolute
 *   paths, no `..`); `checkClips` adds the on-disk check (exists, and no
 *   symlink leads outside clips/). Missing clips are reported, not fatal:
 *   the caller chooses the policy.
 * Warnings are returned (and passed to `onWarning` as they arise), never printed.
 */
import { join } from 'node:path';
import {
  streamCommonVoice,
  type CvCounts,
  type CvRow,
  type Gender,
  type GenderMap,
  type VoteFilter,
} from './commonVoice.ts';
import { ClipPathChecker, resolveClipPath } from './safePath.ts';
import { DEFAULT_RELEASE_FILES, readReleaseMembership, type ReleaseSplitFiles } from './releaseSplit.ts';
import { BalancedSubsetSampler, type SubsetShortWarning, type SubsetTargets } from './subset.ts';
import {
  checkFractions,
  splitByClip,
  splitByMembership,
  splitBySpeaker,
  type Leakage,
  type SplitFractions,
  type SplitName,
  type SplitResult,
  type SplitStats,
  type SplitWarning,
} from './split.ts';
import { hash53 } from './rng.ts';

/**
 * How to split. With `by: 'release'` the release's own lists decide; fractions
 * may be present (a spec written for another strategy) but are ignored.
 */
export type SplitSpec =
  | ({ by: 'speaker' | 'clip' } & SplitFractions)
  | ({ by: 'release'; files?: ReleaseSplitFiles } & Partial<SplitFractions>);

export interface IngestOptions {
  /** Release folder with the TSVs and `clips/`. */
  root: string;
  /** Default `validated.tsv`. */
  tsv?: string;
  genderMap?: GenderMap;
  filter?: VoteFilter;
  subset: SubsetTargets;
  split: SplitSpec;
  seed: number | string;
  /** Verify each selected clip exists on disk and stays inside clips/ (default false). */
  checkClips?: boolean;
  /** Keep sentence text on the output rows (default false: features do not need it). */
  includeSentence?: boolean;
}

export interface IngestProgress {
  phase: 'read' | 'check';
  rowsRead: number;
  bytesRead: number;
  totalBytes: number;
  clipsChecked: number;
  clipsToCheck: number;
}

export interface IngestHooks {
  onWarning?: (warning: IngestWarning) => void;
  onProgress?: (progress: IngestProgress) => void;
  signal?: AbortSignal;
}

export interface MissingClipsWarning {
  code: 'missing_clips';
  count: number;
  message: string;
}

export interface NotInReleaseWarning {
  code: 'not_in_release';
  count: number;
  message: string;
}

export type IngestWarning = SubsetShortWarning | SplitWarning | MissingClipsWarning | NotInReleaseWarning;

export interface IngestRow extends CvRow {
  split: SplitName;
  /** Absolute path of the clip under `<root>/clips/` (lexically checked). */
  file: string;
}

export interface IngestCounts extends CvCounts {
  /** Distinct client_ids among kept rows (exact up to 53-bit hash collisions). */
  speakersKept: number;
  /** Kept rows that are in none of the release's split lists (split.by release only). */
  notInRelease: number;
  /** Candidates per gender after the per-speaker cap. */
  available: Record<Gender, number>;
  selected: Record<Gender, number>;
  speakersSelected: number;
  speakersCapped: number;
  clipsRemovedByCap: number;
  /** Selected clips not found on disk (checkClips only). */
  missingClips: number;
}

export interface IngestResult {
  /** Selected rows with their split, in TSV order. */
  rows: IngestRow[];
  counts: IngestCounts;
  splits: SplitStats;
  leakage: Leakage;
  warnings: IngestWarning[];
  /** TSV `path` values of selected clips missing from clips/ (checkClips only). */
  missingClips: string[];
}

const PROGRESS_EVERY = 1 << 16;
const CHECK_CONCURRENCY = 16;

export async function ingestCommonVoice(options: IngestOptions, hooks: IngestHooks = {}): Promise<IngestResult> {
  const { signal } = hooks;
  const tsvName = options.tsv ?? 'validated.tsv';
  const tsvFile = join(options.root, tsvName);
  const clipsDir = join(options.root, 'clips');
  if (options.split.by !== 'release') checkFractions(options.split);

  const warnings: IngestWarning[] = [];
  const warn = (w: IngestWarning): void => {
    warnings.push(w);
    hooks.onWarning?.(w);
  };

  const membership =
    options.split.by === 'release'
      ? (await readReleaseMembership(options.root, options.split.files ?? DEFAULT_RELEASE_FILES, signal)).membership
      : undefined;

  // Validates the targets before any file is opened.
  const sampler = new BalancedSubsetSampler<CvRow>(options.subset, options.seed);

  // --- pass over the TSV: filter, then offer each kept row to the sampler ---
  const stream = await streamCommonVoice({
    root: options.root,
    tsv: tsvName,
    genderMap: options.genderMap,
    filter: options.filter,
    includeSentence: options.includeSentence ?? false,
    signal,
  });
  const speakers = new Set<number>();
  let notInRelease = 0;
  const progress = (phase: IngestProgress['phase'], clipsChecked = 0, clipsToCheck = 0): void => {
    hooks.onProgress?.({
      phase,
      rowsRead: stream.counts.read,
      bytesRead: stream.reader.bytesRead,
      totalBytes: stream.reader.size,
      clipsChecked,
      clipsToCheck,
    });
  };
  let nextReport = PROGRESS_EVERY;
  for await (const batch of stream.batches) {
    for (const row of batch) {
      if (membership !== undefined && !membership.has(row.path)) {
        notInRelease++;
        continue;
      }
      // Hashing keeps the distinct-speaker count cheap: a number per speaker, not a 128-char id.
      speakers.add(hash53(row.clientId));
      sampler.add(row);
    }
    if (stream.counts.read >= nextReport) {
      nextReport += PROGRESS_EVERY;
      progress('read');
    }
  }
  progress('read');
  signal?.throwIfAborted();
  if (notInRelease > 0) {
    warn({
      code: 'not_in_release',
      count: notInRelease,
      message: `${notInRelease} kept rows are in none of the release's split lists and were left out`,
    });
  }

  const subset = sampler.finish();
  for (const w of subset.warnings) warn(w);

  // --- split ---
  let split: SplitResult<CvRow>;
  if (options.split.by === 'speaker') split = splitBySpeaker(subset.selected, options.split, options.seed);
  else if (options.split.by === 'clip') split = splitByClip(subset.selected, options.split, options.seed);
  else split = splitByMembership(subset.selected, membership!);
  for (const w of split.warnings) warn(w);

  // --- paths: always lexically, on disk when asked ---
  const rows: IngestRow[] = split.rows
    .map((row) => ({ ...row, file: resolveClipPath(clipsDir, row.path, { file: tsvFile, line: row.line }) }))
    .sort((a, b) => a.line - b.line);

  const missingClips: string[] = [];
  if (options.checkClips) {
    const checker = new ClipPathChecker(clipsDir);
    const missing = new Set<number>();
    let next = 0;
    let done = 0;
    const worker = async (): Promise<void> => {
      while (next < rows.length) {
        signal?.throwIfAborted();
        const i = next++;
        const row = rows[i]!;
        const check = await checker.check(row.path, { file: tsvFile, line: row.line });
        if (check.status === 'missing') missing.add(i);
        if (++done % 1024 === 0) progress('check', done, rows.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CHECK_CONCURRENCY, rows.length) }, worker));
    progress('check', done, rows.length);
    // Report in TSV order regardless of which check finished first.
    for (let i = 0; i < rows.length; i++) if (missing.has(i)) missingClips.push(rows[i]!.path);
    if (missingClips.length > 0) {
      const shown = missingClips.slice(0, 5).join(', ');
      warn({
        code: 'missing_clips',
        count: missingClips.length,
        message:
          `${missingClips.length} of ${rows.length} selected clips are missing from ${clipsDir}` +
          ` (${shown}${missingClips.length > 5 ? ', …' : ''})`,
      });
    }
  }

  const selectedSpeakers = new Set(rows.map((r) => r.clientId));
  const counts: IngestCounts = {
    ...stream.counts,
    speakersKept: speakers.size,
    notInRelease,
    available: subset.available,
    selected: {
      male: rows.filter((r) => r.gender === 'male').length,
      female: rows.filter((r) => r.gender === 'female').length,
    },
    speakersSelected: selectedSpeakers.size,
    speakersCapped: subset.speakersCapped,
    clipsRemovedByCap: subset.clipsRemovedByCap,
    missingClips: missingClips.length,
  };
  return { rows, counts, splits: split.stats, leakage: split.leakage, warnings, missingClips };
}
