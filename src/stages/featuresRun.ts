import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createRng, deriveSeed } from '../audio/rng.ts';
import { NormalizationStats, POOLED_DIR, ShardWriter, SPLITS, writeManifest, type ClipRecord, type SplitName } from '../dataset/featureSet.ts';
import { UserError } from '../errors.ts';
import { F0_FRAME_FEATURES, pooledLength } from '../features/clipStatistics.ts';
import type { ClipAugment } from '../features/extractClip.ts';
import { extractFeatures, type FeatureJob } from '../features/pool.ts';
import type { AugmentSpec, Spec } from '../spec/types.ts';
import { clipParamsFor, ingestedClips, type FeaturesParams, type FeaturesValue } from './features.ts';
import type { IngestedClip } from './ingest.ts';
import type { SpecLike, StageContext, StageInputs } from './stage.ts';

const spec = (s: SpecLike) => s as unknown as Spec;

/**
 * The features stage's run (features.ts loads this module when the stage runs, not when its key
 * is computed): the clips through the worker pool into the frame and pooled feature sets.
 */
export async function runFeatures(ctx: StageContext<FeaturesParams>, inputs: StageInputs): Promise<FeaturesValue> {
  const { features: f, augment, on_bad_clip } = ctx.params;
  const clipsDir = path.resolve(ctx.root, spec(ctx.spec).data.root, 'clips');
  const clips = ingestedClips(inputs.ingest.dir);
  const base = clipParamsFor(f);
  const coeffs = (f.kind === 'mfcc' ? f.n_mfcc : f.n_mels) + (f.f0.enabled ? F0_FRAME_FEATURES : 0);
  const pooledCoeffs = pooledLength(f.kind === 'mfcc' ? f.n_mfcc : f.n_mels, f.stats, f.f0.enabled);

  // The job list, in the order the shards are written: split by split, TSV order within,
  // each training clip followed by its augmented copies.
  const plan: { clip: IngestedClip; copy: number }[] = [];
  for (const split of SPLITS) {
    for (const clip of clips.filter((c) => c.split === split)) {
      plan.push({ clip, copy: 0 });
      if (split === 'train') for (let copy = 1; copy <= augment.copies; copy++) plan.push({ clip, copy });
    }
  }
  const jobs: FeatureJob[] = plan.map(({ clip, copy }, index) => ({
    index,
    path: path.join(clipsDir, clip.path),
    params: copy === 0 ? base : { ...base, augment: drawAugmentation(augment, ctx.seed ?? 0, clip.path, copy) },
  }));

  const writers = Object.fromEntries(
    SPLITS.map((split) => [split, new ShardWriter(ctx.dir, split, f.frames, coeffs)]),
  ) as Record<SplitName, ShardWriter>;
  const pooledDir = path.join(ctx.dir, POOLED_DIR);
  mkdirSync(pooledDir);
  const pooledWriters = Object.fromEntries(
    SPLITS.map((split) => [split, new ShardWriter(pooledDir, split, 1, pooledCoeffs)]),
  ) as Record<SplitName, ShardWriter>;
  // Statistics describe real audio, as at evaluation and prediction: augmented copies are left out.
  const trainStats = new NormalizationStats(coeffs);
  const pooledTrainStats = new NormalizationStats(pooledCoeffs);
  let truncated = 0;
  const skipped: FeaturesValue['skipped'] = [];
  let audioSeconds = 0;
  const started = performance.now();

  for await (const result of extractFeatures(jobs, {
    workers: spec(ctx.spec).features.workers ?? undefined,
    signal: ctx.signal,
    onProgress: (p) => ctx.progress(p.done, jobs.length, 'clips'),
  })) {
    const { clip, copy } = plan[result.index];
    if (!result.ok) {
      const where = `${spec(ctx.spec).data.tsv}:${clip.line}: ${clip.path}`;
      if (on_bad_clip === 'error') {
        throw new UserError(`cannot use clip ${where}: ${result.error.message}`, ['set data.on_bad_clip: skip to leave such clips out']);
      }
      if (copy === 0) skipped.push({ path: clip.path, line: clip.line, error: result.error.message });
      continue;
    }
    // An augmented copy of a clip that failed is dropped with it.
    if (copy > 0 && skipped.some((s) => s.path === clip.path)) continue;
    const features = result.features;
    const seconds = features.sourceSamples / features.sourceRate;
    const record: ClipRecord = { path: clip.path, clientId: clip.clientId, gender: clip.gender, validFrames: features.validFrames, copy, seconds };
    writers[clip.split].append(features.data, record);
    pooledWriters[clip.split].append(features.pooled, { ...record, validFrames: 1 });
    if (clip.split === 'train' && copy === 0) {
      trainStats.add(features.data, features.validFrames);
      pooledTrainStats.add(features.pooled, 1);
    }
    if (copy === 0 && features.totalFrames > f.frames) truncated++;
    audioSeconds += seconds;
  }
  if (skipped.length) {
    ctx.warn(`skipped ${skipped.length} clip${skipped.length === 1 ? '' : 's'} that could not be used (first: ${skipped[0].path}: ${skipped[0].error})`);
  }

  const splits = Object.fromEntries(SPLITS.map((split) => [split, writers[split].close()])) as Record<SplitName, ReturnType<ShardWriter['close']>>;
  if (splits.train.count === 0) throw new UserError('no training clips could be turned into features');
  writeManifest(pooledDir, {
    format: 'xp-features/1',
    kind: f.kind,
    frames: 1,
    coeffs: pooledCoeffs,
    splits: Object.fromEntries(SPLITS.map((split) => [split, pooledWriters[split].close()])) as Record<SplitName, ReturnType<ShardWriter['close']>>,
    normalization: pooledTrainStats.result(f.normalize),
  });
  if (truncated > 0) {
    ctx.log(`${truncated} of ${plan.filter((p) => p.copy === 0).length} clips are longer than features.frames = ${f.frames} and were cut (pooled statistics over: ${f.stats.over})`);
  }
  writeManifest(ctx.dir, {
    format: 'xp-features/1',
    kind: f.kind,
    frames: f.frames,
    coeffs,
    splits,
    normalization: trainStats.result(f.normalize),
  });
  const wallMs = performance.now() - started;
  return {
    kind: f.kind,
    frames: f.frames,
    coeffs,
    pooledCoeffs,
    clips: { train: splits.train.count, val: splits.val.count, test: splits.test.count },
    truncated,
    augmentedCopies: augment.copies,
    skipped,
    audioSeconds,
    msPerAudioSecond: audioSeconds > 0 ? wallMs / audioSeconds : 0,
  };
}

/** Per-clip augmentation values, drawn from the spec's ranges by (seed, clip, copy) alone. */
export function drawAugmentation(augment: AugmentSpec, seed: number, clipPath: string, copy: number): ClipAugment {
  const rng = createRng(deriveSeed(seed, 'augment', clipPath, copy));
  const draw = (range: [number, number] | null) => (range ? rng.uniform(range[0], range[1]) : undefined);
  return {
    semitones: draw(augment.pitch_semitones),
    speed: draw(augment.speed),
    snrDb: draw(augment.noise_snr_db),
    preserveFormants: augment.preserve_formants,
    seed: deriveSeed(seed, 'noise', clipPath, copy),
  };
}
