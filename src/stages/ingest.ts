import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { IngestCounts } from '../data/ingest.ts';
import type { Leakage, SplitStats } from '../data/split.ts';
import type { SplitName } from '../dataset/featureSet.ts';
import { UserError } from '../errors.ts';
import type { DataSpec, Spec } from '../spec/types.ts';
import type { SpecLike, Stage } from './stage.ts';

/** One selected clip, as the features stage reads it. Paths are relative to `<root>/clips/`. */
export interface IngestedClip {
  path: string;
  clientId: string;
  gender: 'male' | 'female';
  split: SplitName;
  /** Line in the TSV, for messages about this clip. */
  line: number;
}

export interface IngestValue {
  tsv: string;
  counts: IngestCounts;
  splits: SplitStats;
  leakage: Leakage;
  warnings: string[];
  /** Selected clips that were not on disk and were skipped (on_bad_clip: skip). */
  skippedMissing: string[];
}

export const ROWS_FILE = 'rows.json';
const RELEASE_FILES = { train: 'train.tsv', val: 'dev.tsv', test: 'test.tsv' };

type IngestParams = Pick<DataSpec, 'tsv' | 'gender_map' | 'filter' | 'subset' | 'on_bad_clip'> & {
  split: Omit<DataSpec['split'], 'min_val_speakers'>;
};

const data = (spec: SpecLike) => (spec as unknown as Spec).data;

/**
 * Filter a Common Voice release, draw the balanced subset and split it. Keyed by the TSV's
 * content (not the corpus location: a moved corpus is the same data), the filter, subset
 * and split params, and the seed.
 */
export const ingestStage: Stage<IngestParams, IngestValue> = {
  kind: 'ingest',
  implVersion: 1,
  needs: [],
  params: (spec) => {
    const { tsv, gender_map, filter, subset, split, on_bad_clip } = data(spec);
    // The warning threshold does not change the artifact.
    const { min_val_speakers: _threshold, ...splitParams } = split;
    return { tsv, gender_map, filter, subset, split: splitParams, on_bad_clip };
  },
  seed: (spec) => (spec as unknown as Spec).seed,
  files: (params, _inputs, spec) => {
    const root = data(spec).root;
    const tables = params.split.by === 'release' ? [params.tsv, ...Object.values(RELEASE_FILES)] : [params.tsv];
    return tables.map((name) => path.join(root, name));
  },
  async run(ctx) {
    // The TSV reader, subset sampler and splitter load only when the stage runs, not for its key.
    const { ingestCommonVoice } = await import('../data/ingest.ts');
    const { params } = ctx;
    const root = path.resolve(ctx.root, data(ctx.spec).root);
    const split =
      params.split.by === 'release'
        ? { by: 'release' as const, files: RELEASE_FILES }
        : { by: params.split.by, train: params.split.train, val: params.split.val, test: params.split.test };
    // DataErrors (a malformed row, a path escaping clips/) are UserErrors: exit 2, nothing cached.
    const result = await ingestCommonVoice(
        {
          root,
          tsv: params.tsv,
          genderMap: params.gender_map,
          filter: { downVotesMax: params.filter.down_votes_max ?? undefined, upVotesMin: params.filter.up_votes_min ?? undefined },
          subset: {
            male: params.subset.male,
            female: params.subset.female,
            maxClipsPerSpeaker: params.subset.max_clips_per_speaker ?? undefined,
          },
          split,
          seed: ctx.seed ?? 0,
          checkClips: true,
        },
        {
          signal: ctx.signal,
          onWarning: (warning) => ctx.warn(warning.message),
          onProgress: (p) =>
            p.phase === 'read'
              ? ctx.progress(p.bytesRead, p.totalBytes, 'bytes of TSV')
              : ctx.progress(p.clipsChecked, p.clipsToCheck, 'clips checked'),
        },
      );
    if (result.missingClips.length > 0 && params.on_bad_clip === 'error') {
      throw new UserError(
        `${result.missingClips.length} selected clip${result.missingClips.length === 1 ? ' is' : 's are'} missing from ${path.join(root, 'clips')}`,
        [...result.missingClips.slice(0, 10).map((p) => `  ${p}`), 'set data.on_bad_clip: skip to leave them out'],
      );
    }
    const missing = new Set(result.missingClips);
    const clips: IngestedClip[] = result.rows
      .filter((row) => !missing.has(row.path))
      .map((row) => ({ path: row.path, clientId: row.clientId, gender: row.gender, split: row.split, line: row.line }));
    if (clips.length === 0) throw new UserError(`no clips left in ${path.join(root, params.tsv)} after filtering`);
    writeFileSync(path.join(ctx.dir, ROWS_FILE), JSON.stringify(clips));
    for (const [name, s] of Object.entries(result.splits)) {
      ctx.log(`${name}: ${s.clips} clips (${s.male} male, ${s.female} female) from ${s.speakers} speakers`);
    }
    return {
      tsv: params.tsv,
      counts: result.counts,
      splits: result.splits,
      leakage: result.leakage,
      warnings: result.warnings.map((w) => w.message),
      skippedMissing: result.missingClips,
    };
  },
  metrics: (value) => {
    const metrics: Record<string, number> = {};
    for (const [split, stat] of Object.entries(value.splits)) {
      metrics[`${split}_clips`] = stat.clips;
      metrics[`${split}_speakers`] = stat.speakers;
    }
    return metrics;
  },
  warnings: (value, spec) => validationSpeakerWarnings(value.splits.val, data(spec).split.min_val_speakers),
};

/**
 * Early stopping and the search objective on a handful of validation voices were measured to
 * collapse runs (../shared/notes/science.md), so say so on every run that has too few.
 */
export function validationSpeakerWarnings(val: SplitStats['val'], minimum: number): string[] {
  if (val.clips === 0 || minimum <= 0) return [];
  if (val.maleSpeakers >= minimum && val.femaleSpeakers >= minimum) return [];
  return [
    `the validation split has only ${val.maleSpeakers} male and ${val.femaleSpeakers} female speakers (data.split.min_val_speakers: ${minimum}): ` +
      'early stopping and search decisions rest on a handful of voices and can collapse a run; use more data or a larger data.split.val',
  ];
}
