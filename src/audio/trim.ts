/**
 * Leading/trailing silence trim with librosa.effects.trim's rule: frames (centred, zero-padded)
 * whose RMS is more than `topDb` below the loudest frame of the same clip count as silence, and
 * the clip is cut to the span from the first to the end of the last non-silent frame. Silence
 * inside the clip is kept. Because the threshold is relative, the result does not depend on the
 * recording's gain.
 */

export interface TrimOptions {
  /** Threshold in dB below the loudest frame (librosa default 60). */
  topDb?: number;
  /** Frame length in samples (librosa default 2048). */
  frameLength?: number;
  /** Hop in samples (librosa default 512). */
  hopLength?: number;
}

export interface TrimResult {
  /** A view of the input, samples [start, end). */
  samples: Float32Array;
  start: number;
  end: number;
}

/** power_to_db's `amin`: keeps log10 finite on digital silence. */
const AMIN = 1e-10;

export function trimSilence(samples: Float32Array, options: TrimOptions = {}): TrimResult {
  const topDb = options.topDb ?? 60;
  const frameLength = options.frameLength ?? 2048;
  const hop = options.hopLength ?? 512;
  if (!(topDb > 0)) throw new RangeError(`trim: topDb must be > 0, got ${topDb}`);
  if (!Number.isInteger(frameLength) || frameLength < 1 || !Number.isInteger(hop) || hop < 1) {
    throw new RangeError(`trim: frameLength and hopLength must be positive integers`);
  }
  const n = samples.length;
  if (n === 0) return { samples, start: 0, end: 0 };

  // librosa.feature.rms(center=True, pad_mode='constant'): frame t covers
  // [t·hop − frameLength/2, t·hop + frameLength/2) of the zero-padded signal.
  const frames = 1 + Math.floor(n / hop);
  const padLeft = frameLength >> 1;
  // Mean square via a running sum of squares: O(n) whatever the overlap.
  const cumulative = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) cumulative[i + 1] = cumulative[i]! + samples[i]! * samples[i]!;
  const meanSquare = new Float64Array(frames);
  let max = 0;
  for (let t = 0; t < frames; t++) {
    const a = Math.max(0, Math.min(n, t * hop - padLeft));
    const b = Math.max(0, Math.min(n, t * hop - padLeft + frameLength));
    const ms = (cumulative[b]! - cumulative[a]!) / frameLength;
    meanSquare[t] = ms;
    if (ms > max) max = ms;
  }
  // 10·log10(max(amin, ms)) − 10·log10(max(amin, ref)) > −topDb  ⇔  max(amin, ms) > max(amin, ref)·10^(−topDb/10)
  const threshold = Math.max(AMIN, max) * 10 ** (-topDb / 10);
  let first = -1;
  let last = -1;
  for (let t = 0; t < frames; t++) {
    if (Math.max(AMIN, meanSquare[t]!) > threshold) {
      if (first < 0) first = t;
      last = t;
    }
  }
  // All frames equal (e.g. digital silence): librosa keeps everything, and so do we.
  if (first < 0) return { samples, start: 0, end: n };
  const start = Math.min(n, first * hop);
  const end = Math.min(n, (last + 1) * hop);
  return { samples: samples.subarray(start, end), start, end };
}
