/**
 * Waveform augmentation for training copies of a clip. Every operation is deterministic given its
 * arguments; randomness enters only through the parameters the caller draws from a seeded Rng
 * (rng.ts), so a clip's augmented features do not depend on worker count or order.
 *
 * - pitchShift: Sonic (Apache-2.0, WASM) changes F0 — and formants with it — keeping duration.
 *   Sonic resamples internally without an anti-alias filter, so shift at the source rate
 *   (32/48 kHz) *before* the band-limited downsample to 16 kHz: aliases then land above 8 kHz and
 *   the resampler removes them (−61 dB instead of −1.4 dB in shared/notes/audio-routes.md).
 *   With `{ preserveFormants: true }` the original's LPC envelope is put back onto Sonic's output
 *   (formants.ts), so F0 moves but the formants stay: a shifted male voice keeps a male vocal
 *   tract instead of drifting toward the female range. That costs ~2× Sonic at 16 kHz and grows
 *   with the rate squared; extractClip instead shifts here without it and calls preserveFormants
 *   after the downsample.
 * - changeSpeed: Kaldi-style speed perturbation (tempo and pitch together): the samples are
 *   reinterpreted as recorded at sr·factor and resampled back to sr.
 * - addNoise: white Gaussian noise at a given SNR relative to the clip's mean power.
 */
import type { SonicModule } from '@echogarden/sonic-wasm';
import { preserveFormants } from './formants.ts';
import { createResampler, type Resampler } from './resample.ts';
import type { Rng } from './rng.ts';

export interface PitchShiftOptions {
  /** Keep the original spectral envelope (formants); only F0 moves. Default false. */
  preserveFormants?: boolean;
}

export interface Augmenter {
  /** F0 × 2^(semitones/12), same length as the input. */
  pitchShift(samples: Float32Array, sampleRate: number, semitones: number, options?: PitchShiftOptions): Float32Array;
  /** Plays the clip `factor` times faster: length ≈ n / factor, F0 × factor. */
  changeSpeed(samples: Float32Array, sampleRate: number, factor: number): Float32Array;
  close(): void;
}

export interface AugmenterOptions {
  /** Reuse a resampler (it is not closed by the augmenter); otherwise one is created. */
  resampler?: Resampler;
  /** Quality of the resampler created when none is given. */
  resampleQuality?: number;
}

const CHUNK = 16384;

let sonicPromise: Promise<SonicModule> | undefined;

export async function createAugmenter(options: AugmenterOptions = {}): Promise<Augmenter> {
  // An ESM package, imported on first use: the CommonJS bundle (scripts/bundle.mjs) cannot `require` ESM.
  sonicPromise ??= import('@echogarden/sonic-wasm').then(({ default: createSonic }) => createSonic());
  const sonic = await sonicPromise;
  const ownResampler = options.resampler === undefined;
  const resampler = options.resampler ?? (await createResampler(options.resampleQuality));
  const bufPtr = sonic._malloc(CHUNK * 4);
  let closed = false;

  const pitchShift = (samples: Float32Array, sampleRate: number, semitones: number, options: PitchShiftOptions = {}): Float32Array => {
    const shifted = sonicShift(samples, sampleRate, semitones);
    if (!options.preserveFormants || shifted === samples) return shifted;
    return preserveFormants(samples, shifted, sampleRate);
  };

  const sonicShift = (samples: Float32Array, sampleRate: number, semitones: number): Float32Array => {
    if (closed) throw new Error('Augmenter is closed');
    if (!Number.isFinite(semitones)) throw new RangeError(`pitchShift: semitones must be finite, got ${semitones}`);
    if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`pitchShift: bad sample rate ${sampleRate}`);
    if (semitones === 0 || samples.length === 0) return samples;
    const n = samples.length;
    // Sonic stores samples as int16 internally, so a quiet clip would lose most of its resolution
    // (a 1e-5 sine comes back as zeros). Scale the peak to −6 dBFS going in (headroom for the
    // interpolation's overshoot) and undo the gain coming out.
    let peak = 0;
    for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(samples[i]!));
    if (peak === 0) return new Float32Array(n);
    const gain = 0.5 / peak;
    const out = new Float32Array(n);
    let written = 0;
    // A fresh stream per clip: Sonic keeps pitch-period history across writes.
    const stream = sonic._sonicCreateStream(sampleRate, 1);
    if (stream === 0) throw new Error('sonicCreateStream failed');
    try {
      sonic._sonicSetPitch(stream, 2 ** (semitones / 12));
      const drain = (): void => {
        for (;;) {
          const got = sonic._sonicReadFloatFromStream(stream, bufPtr, CHUNK);
          if (got <= 0) return;
          const take = Math.min(got, n - written);
          if (take > 0) out.set(sonic.HEAPF32.subarray(bufPtr >> 2, (bufPtr >> 2) + take), written);
          written += take;
        }
      };
      for (let pos = 0; pos < n; pos += CHUNK) {
        const len = Math.min(CHUNK, n - pos);
        const heap = sonic.HEAPF32; // re-read per chunk: a growing heap replaces the view
        const base = bufPtr >> 2;
        for (let i = 0; i < len; i++) heap[base + i] = samples[pos + i]! * gain;
        if (sonic._sonicWriteFloatToStream(stream, bufPtr, len) === 0) throw new Error('sonicWriteFloatToStream failed (out of memory?)');
        drain();
      }
      sonic._sonicFlushStream(stream);
      drain();
    } finally {
      sonic._sonicDestroyStream(stream);
    }
    const inverse = 1 / gain;
    for (let i = 0; i < written; i++) out[i] = out[i]! * inverse;
    // Sonic's output is 0.1–0.3 % shorter than its input; the missing tail stays zero so the
    // duration is exactly the input's.
    return out;
  };

  const changeSpeed = (samples: Float32Array, sampleRate: number, factor: number): Float32Array => {
    if (closed) throw new Error('Augmenter is closed');
    if (!(factor > 0) || !Number.isFinite(factor)) throw new RangeError(`changeSpeed: factor must be > 0, got ${factor}`);
    return resampler.resample(samples, speedSourceRate(sampleRate, factor), sampleRate);
  };

  return {
    pitchShift,
    changeSpeed,
    close() {
      if (closed) return;
      closed = true;
      sonic._free(bufPtr);
      if (ownResampler) resampler.close();
    },
  };
}

/**
 * The rate at which to reinterpret a clip so that resampling it to `sampleRate` plays it `factor`
 * times faster. Rounded to whole Hz (the resampler takes integer rates): the effective factor is
 * off by at most 0.5/sampleRate, under 0.002 % at 32 kHz.
 */
export function speedSourceRate(sampleRate: number, factor: number): number {
  return Math.round(sampleRate * factor);
}

/**
 * Adds white Gaussian noise so that mean(x²) / σ² = 10^(snrDb/10). A clip of digital silence has
 * no defined SNR and is returned unchanged (as a copy).
 */
export function addNoise(samples: Float32Array, snrDb: number, rng: Rng): Float32Array {
  if (!Number.isFinite(snrDb)) throw new RangeError(`addNoise: snrDb must be finite, got ${snrDb}`);
  const n = samples.length;
  const out = new Float32Array(samples);
  if (n === 0) return out;
  let energy = 0;
  for (let i = 0; i < n; i++) energy += samples[i]! * samples[i]!;
  if (energy === 0) return out;
  const sigma = Math.sqrt(energy / n / 10 ** (snrDb / 10));
  for (let i = 0; i < n; i++) out[i] = samples[i]! + sigma * rng.normal();
  return out;
}
