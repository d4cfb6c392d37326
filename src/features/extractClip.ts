/**
 * The whole per-clip feature pipeline as one function of (bytes, params):
 *
 *   decode → mono → [pitch shift at the source rate, optionally formant-preserving] → resample to
 *   targetRate (speed perturbation folded into this one resampling step) → [silence trim] →
 *   [noise] → MFCC / log-mel → fixed frames
 *
 * The order is deliberate:
 * - pitch shift before downsampling, so Sonic's aliases fall above the target band and the
 *   resampler's low-pass removes them; the formant-preserving part (augment.preserveFormants)
 *   then runs at the target rate on the resampled original and shifted signals;
 * - speed perturbation "resample sr·f → sr" followed by "sr → target" equals one resampling
 *   "sr·f → target", which costs half and filters once;
 * - noise after trimming, so the trim sees the clean signal, and at the target rate, so the SNR is
 *   the SNR within the band the features see (white noise added at 32 kHz would lose half its
 *   power in the downsample and end up 3 dB weaker than asked).
 *
 * The result depends only on the bytes and the params (augmentation values and seed included), not
 * on which worker or in what order clips run. The WASM tools it needs live in a ClipTools.
 */
import { UserError } from '../errors.ts';
import { createAudioDecoder, type AudioDecoder } from '../audio/decode.ts';
import { createResampler, DEFAULT_RESAMPLE_QUALITY, type Resampler } from '../audio/resample.ts';
import { addNoise, createAugmenter, speedSourceRate, type Augmenter } from '../audio/augment.ts';
import { preserveFormants } from '../audio/formants.ts';
import { trimSilence } from '../audio/trim.ts';
import { createRng, deriveSeed } from '../audio/rng.ts';
import { appendColumns, f0Features, F0_FRAME_FEATURES, pooledStatistics, type F0Params, type StatisticsParams } from './clipStatistics.ts';
import { createFeatureExtractor, fixFrames, type FeatureExtractor, type FeatureParams, type FixedFrames } from './mfcc.ts';

export interface TrimParams {
  enabled: boolean;
  /** dB below the clip's loudest frame that counts as silence (librosa's top_db). */
  topDb: number;
  /** Trim analysis frame and hop in samples at targetRate (librosa defaults 2048 / 512). */
  frameLength?: number;
  hopLength?: number;
}

/** Augmentation values already drawn for this clip (the caller draws them from seeded ranges). */
export interface ClipAugment {
  /** Pitch shift in semitones (0 or absent: none). */
  semitones?: number;
  /** With a pitch shift: keep the original formants (LPC envelope transfer), so only F0 moves. */
  preserveFormants?: boolean;
  /** Speed factor (1 or absent: none); > 1 is faster and shorter. */
  speed?: number;
  /** Add white noise at this SNR in dB (absent: none). */
  snrDb?: number;
  /** Seeds the noise; derive it per clip with deriveSeed(runSeed, clipId, copy). */
  seed: number;
}

export interface ClipParams extends FeatureParams {
  /** Rate the audio is resampled to; must equal the features' sampleRate. */
  targetRate: number;
  trim: TrimParams;
  /** Output frames: features are zero-padded or truncated to this many. */
  frames: number;
  /** Pooled per-clip statistics, always computed since they are small (default: mean and std over the whole clip). */
  stats?: StatisticsParams;
  /** F0 features (two extra columns per frame, four pooled values); absent or null = off. */
  f0?: F0Params | null;
  augment?: ClipAugment;
  /** Speex quality 0..10 (default 8). Part of the params because it changes the features. */
  resampleQuality?: number;
}

export interface ClipFeatures extends FixedFrames {
  /** The decoded file's rate and length in samples, before any processing. */
  sourceRate: number;
  sourceSamples: number;
  /** Samples at targetRate that went into the feature extractor (after speed change and trim). */
  analysedSamples: number;
  /** Frames of the whole clip before padding or truncation to `frames`. */
  totalFrames: number;
  /** Pooled statistics (see clipStatistics.ts), F0's appended when enabled. */
  pooled: Float32Array;
}

/** A clip that decoded but cannot give features (e.g. shorter than one analysis window). */
export class ClipError extends UserError {
  override name = 'ClipError';
}

/** The per-thread WASM state extractClip needs. One ClipTools processes one clip at a time. */
export interface ClipTools {
  decoder: AudioDecoder;
  augmenter(): Promise<Augmenter>;
  resampler(quality: number): Promise<Resampler>;
  extractor(params: FeatureParams): FeatureExtractor;
  close(): Promise<void>;
}

export async function createClipTools(): Promise<ClipTools> {
  const decoder = await createAudioDecoder();
  const resamplers = new Map<number, Promise<Resampler>>();
  const extractors = new Map<string, FeatureExtractor>();
  let augmenter: Promise<Augmenter> | undefined;

  const resampler = (quality: number): Promise<Resampler> => {
    let r = resamplers.get(quality);
    if (!r) {
      r = createResampler(quality);
      resamplers.set(quality, r);
    }
    return r;
  };
  return {
    decoder,
    resampler,
    // Shares the default-quality resampler (the augmenter needs one only for changeSpeed).
    augmenter: () => (augmenter ??= resampler(DEFAULT_RESAMPLE_QUALITY).then((r) => createAugmenter({ resampler: r }))),
    extractor(params) {
      const p: FeatureParams = {
        kind: params.kind,
        sampleRate: params.sampleRate,
        nFft: params.nFft,
        windowMs: params.windowMs,
        hopMs: params.hopMs,
        nMels: params.nMels,
        nMfcc: params.nMfcc,
        fmin: params.fmin,
        fmax: params.fmax,
      };
      const key = JSON.stringify(p);
      let ex = extractors.get(key);
      if (!ex) {
        ex = createFeatureExtractor(p);
        extractors.set(key, ex);
      }
      return ex;
    },
    async close() {
      await decoder.close();
      if (augmenter) (await augmenter).close();
      for (const r of resamplers.values()) (await r).close();
    },
  };
}

export async function extractClip(bytes: Uint8Array, params: ClipParams, tools: ClipTools): Promise<ClipFeatures> {
  if (params.targetRate !== params.sampleRate) {
    throw new RangeError(`clip params: targetRate (${params.targetRate}) must equal the features' sampleRate (${params.sampleRate})`);
  }
  const extractor = tools.extractor(params); // validates the feature params before any decoding
  const decoded = await tools.decoder.decode(bytes);
  const sourceRate = decoded.sampleRate;
  let x = decoded.samples;
  const aug = params.augment;

  if (aug?.semitones) x = (await tools.augmenter()).pitchShift(x, sourceRate, aug.semitones);
  const speed = aug?.speed ?? 1;
  if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`augment.speed must be > 0, got ${speed}`);
  const fromRate = speed === 1 ? sourceRate : speedSourceRate(sourceRate, speed);
  const resampler = await tools.resampler(params.resampleQuality ?? DEFAULT_RESAMPLE_QUALITY);
  x = resampler.resample(x, fromRate, params.targetRate);
  if (aug?.semitones && aug.preserveFormants) {
    // Put the original's envelope back at the target rate, on both signals after the same
    // resampling (speed change included): below targetRate/2 this equals doing it at the source
    // rate, at a fraction of the cost (the LPC order, and so the cost per sample, grows with the rate).
    x = preserveFormants(resampler.resample(decoded.samples, fromRate, params.targetRate), x, params.targetRate);
  }

  if (params.trim.enabled) {
    x = trimSilence(x, {
      topDb: params.trim.topDb,
      frameLength: params.trim.frameLength,
      hopLength: params.trim.hopLength,
    }).samples;
  }
  if (aug?.snrDb !== undefined) x = addNoise(x, aug.snrDb, createRng(deriveSeed(aug.seed, 'noise')));

  if (x.length < extractor.windowLength) {
    throw new ClipError(
      `clip too short for features: ${x.length} samples at ${params.targetRate} Hz after processing, one window needs ${extractor.windowLength}`,
    );
  }
  let matrix = extractor.extract(x);
  const stats = params.stats ?? { over: 'clip', percentiles: [] };
  let pooled = pooledStatistics(matrix, stats.over === 'frames' ? params.frames : null, stats.percentiles);
  if (params.f0) {
    const f0 = f0Features(x, params.targetRate, matrix.frames, extractor.windowLength, extractor.hopLength, params.f0);
    matrix = appendColumns(matrix, f0.perFrame, F0_FRAME_FEATURES);
    const withF0 = new Float32Array(pooled.length + f0.pooled.length);
    withF0.set(pooled);
    withF0.set(f0.pooled, pooled.length);
    pooled = withF0;
  }
  const fixed = fixFrames(matrix, params.frames);
  return { ...fixed, sourceRate, sourceSamples: decoded.samples.length, analysedSamples: x.length, totalFrames: matrix.frames, pooled };
}
