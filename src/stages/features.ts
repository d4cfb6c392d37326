import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SplitName } from '../dataset/featureSet.ts';
import type { ClipParams } from '../features/extractClip.ts';
import type { AugmentSpec, FeaturesSpec, Spec } from '../spec/types.ts';
import { childPath } from '../runner/fingerprint.ts';
import { ROWS_FILE, type IngestedClip } from './ingest.ts';
import type { SpecLike, Stage } from './stage.ts';

export type FeaturesParams = {
  features: Omit<FeaturesSpec, 'workers'>;
  augment: AugmentSpec;
  on_bad_clip: 'error' | 'skip';
};

export interface FeaturesValue {
  kind: 'mfcc' | 'logmel';
  frames: number;
  coeffs: number;
  /** Length of the pooled per-clip vector (the `pooled/` feature set). */
  pooledCoeffs: number;
  clips: Record<SplitName, number>;
  /** Original clips longer than `frames` (they were cut). */
  truncated: number;
  augmentedCopies: number;
  skipped: { path: string; line: number; error: string }[];
  audioSeconds: number;
  /** Milliseconds of wall time per second of audio (decode + resample + features, all workers). */
  msPerAudioSecond: number;
}

const spec = (s: SpecLike) => s as unknown as Spec;

/** The clips the ingest stage selected (its rows.json). */
export function ingestedClips(dir: string): IngestedClip[] {
  return JSON.parse(readFileSync(path.join(dir, ROWS_FILE), 'utf8')) as IngestedClip[];
}

/**
 * Decode → (augment, training clips only) → resample → MFCC / log-mel (+ F0) → fixed frames, over
 * worker threads, streamed into float32 shards in a fixed order (so the artifact is identical
 * at any worker count). Beside the frames, a second feature set in `pooled/` holds one vector of
 * pooled statistics per clip (for logreg / mlp). Normalisation statistics of both come from the
 * original training clips only. The extraction is in featuresRun.ts, loaded when the stage runs.
 */
export const featuresStage: Stage<FeaturesParams, FeaturesValue> = {
  kind: 'features',
  implVersion: 2,
  needs: ['ingest'],
  params: (s) => {
    const { workers: _workers, ...features } = spec(s).features;
    return { features, augment: spec(s).augment, on_bad_clip: spec(s).data.on_bad_clip };
  },
  // Only augmentation draws random numbers.
  seed: (s) => (spec(s).augment.copies > 0 ? spec(s).seed : null),
  libraries: ['mpg123-decoder', '@wasm-audio-decoders/flac', '@echogarden/speex-resampler-wasm', 'fft.js', '@echogarden/sonic-wasm'],
  files: (_params, inputs, s) => {
    const clips = path.join(spec(s).data.root, 'clips');
    return ingestedClips(inputs.ingest.dir).map((clip) => childPath(clips, clip.path));
  },
  run: async (ctx, inputs) => (await import('./featuresRun.ts')).runFeatures(ctx, inputs),
  metrics: (value) => ({
    train_clips: value.clips.train,
    val_clips: value.clips.val,
    test_clips: value.clips.test,
    skipped: value.skipped.length,
    truncated_clips: value.truncated ?? 0,
  }),
};

/** The per-clip pipeline's parameters for a spec's features section (also used by `xp predict`). */
export function clipParamsFor(f: Omit<FeaturesSpec, 'workers'>): ClipParams {
  return {
    kind: f.kind,
    sampleRate: f.sample_rate,
    nFft: f.n_fft,
    windowMs: f.window_ms,
    hopMs: f.hop_ms,
    nMels: f.n_mels,
    nMfcc: f.n_mfcc,
    fmin: f.fmin,
    fmax: f.fmax,
    targetRate: f.sample_rate,
    trim: { enabled: f.trim_silence.enabled, topDb: f.trim_silence.top_db },
    frames: f.frames,
    resampleQuality: f.resample_quality,
    stats: f.stats,
    f0: f.f0.enabled ? { fmin: f.f0.fmin, fmax: f.f0.fmax } : null,
  };
}
