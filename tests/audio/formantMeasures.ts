/**
 * Spectral measures for the formant tests: where the formants sit, independent of the algorithm
 * under test (its own LPC code is reused only for Levinson–Durbin).
 */
import FFT from 'fft.js';
import { levinson } from '../../src/audio/formants.ts';

/**
 * The LPC power envelope (`grid` points over 0..sr/2, including the prediction error) of each
 * frame centred at the given times: order `order`, 25 ms Hamming window, pre-emphasis 0.97.
 * Frames that do not fit the clip or are silent are skipped.
 */
function* lpcEnvelopes(x: Float32Array, sampleRate: number, times: ArrayLike<number>, order: number, grid: number): Generator<Float64Array> {
  const n = Math.round(0.025 * sampleRate);
  const buf = new Float64Array(n);
  const r = new Float64Array(order + 1);
  const a = new Float64Array(order + 1);
  const env = new Float64Array(grid);
  for (let f = 0; f < times.length; f++) {
    const s0 = Math.round(times[f]! * sampleRate) - (n >> 1);
    if (s0 < 1 || s0 + n > x.length) continue;
    for (let i = 0; i < n; i++) buf[i] = (x[s0 + i]! - 0.97 * x[s0 + i - 1]!) * (0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (n - 1)));
    for (let k = 0; k <= order; k++) {
      let acc = 0;
      for (let i = k; i < n; i++) acc += buf[i]! * buf[i - k]!;
      r[k] = acc;
    }
    if (!(r[0]! > 0)) continue;
    r[0] = r[0]! * 1.0001;
    const err = levinson(r, order, a);
    for (let g = 0; g < grid; g++) {
      const w = (Math.PI * g) / grid;
      let re = 0;
      let im = 0;
      for (let k = 0; k <= order; k++) {
        re += a[k]! * Math.cos(w * k);
        im -= a[k]! * Math.sin(w * k);
      }
      env[g] = err / (re * re + im * im);
    }
    yield env;
  }
}

/**
 * Mean over the given frame times of (F1 + F2) / 2, where F1, F2 are the first two peaks above
 * 150 Hz of an order-12 LPC envelope (25 ms Hamming window, pre-emphasis 0.97), as in Praat's
 * "To Formant (burg)" with a 5.5 kHz ceiling — so pass audio at 11 kHz. Frames without two peaks
 * are skipped.
 */
export function meanF1F2(x: Float32Array, sampleRate: number, times: ArrayLike<number>, order = 12): { hz: number; frames: number } {
  const grid = 512;
  let sum = 0;
  let count = 0;
  for (const env of lpcEnvelopes(x, sampleRate, times, order, grid)) {
    const peaks: number[] = [];
    for (let g = 1; g < grid - 1 && peaks.length < 2; g++) {
      const hz = (g * sampleRate) / 2 / grid;
      if (hz >= 150 && env[g]! > env[g - 1]! && env[g]! >= env[g + 1]!) peaks.push(hz);
    }
    if (peaks.length === 2) {
      sum += (peaks[0]! + peaks[1]!) / 2;
      count++;
    }
  }
  return { hz: count ? sum / count : NaN, frames: count };
}

/** Centroid (Hz) of the long-term average power spectrum: 1024-point Hann frames, 50 % overlap. */
export function ltasCentroid(x: Float32Array, sampleRate: number): number {
  const size = 1024;
  const fft = new FFT(size);
  const spec = fft.createComplexArray() as number[];
  const frame = new Array<number>(size).fill(0);
  const power = new Float64Array(size / 2 + 1);
  for (let s = 0; s + size <= x.length; s += size / 2) {
    for (let i = 0; i < size; i++) frame[i] = x[s + i]! * Math.sin((Math.PI * (i + 0.5)) / size) ** 2;
    fft.realTransform(spec, frame);
    for (let k = 0; k <= size / 2; k++) power[k] += spec[2 * k]! ** 2 + spec[2 * k + 1]! ** 2;
  }
  let num = 0;
  let den = 0;
  for (let k = 0; k <= size / 2; k++) {
    num += ((k * sampleRate) / size) * power[k]!;
    den += power[k]!;
  }
  return num / den;
}

/**
 * Average LPC log-envelope (dB, `grid` points over 0..sr/2) over the given frame times: order
 * 12, 25 ms Hamming window, pre-emphasis 0.97 — pass audio at 11 kHz (5.5 kHz ceiling).
 */
export function meanEnvelopeDb(x: Float32Array, sampleRate: number, times: ArrayLike<number>, order = 12, grid = 256): Float64Array {
  const acc = new Float64Array(grid);
  let frames = 0;
  for (const env of lpcEnvelopes(x, sampleRate, times, order, grid)) {
    for (let g = 0; g < grid; g++) acc[g] += 10 * Math.log10(env[g]!);
    frames++;
  }
  return acc.map((v) => v / frames);
}

/**
 * The frequency scale factor α that best maps the reference envelope onto another: minimises
 * mean (L(f) − Lref(f/α) − c)² over f in [fLo, fHi] (c: the best level offset), α on a 0.25 % grid
 * in [0.7, 1.45]. A plain pitch shift by r scales the formants and gives α ≈ r; a
 * formant-preserving one gives α ≈ 1. Averaged over a clip's voiced frames, it is far steadier
 * than picking individual peaks.
 */
export function envelopeWarp(reference: Float64Array, other: Float64Array, sampleRate: number, fLo = 300, fHi = 4000): number {
  const grid = reference.length;
  const at = (env: Float64Array, hz: number) => {
    const u = (hz / (sampleRate / 2)) * grid;
    const i = Math.floor(u);
    return i < 0 || i + 1 >= grid ? NaN : env[i]! + (u - i) * (env[i + 1]! - env[i]!);
  };
  let best = 1;
  let bestErr = Infinity;
  for (let step = 0; step <= 300; step++) {
    const alpha = 0.7 + step * 0.0025;
    const diffs: number[] = [];
    for (let g = 0; g < grid; g++) {
      const hz = (g * sampleRate) / 2 / grid;
      const d = hz >= fLo && hz <= fHi ? other[g]! - at(reference, hz / alpha) : NaN;
      if (!Number.isNaN(d)) diffs.push(d);
    }
    const mean = diffs.reduce((s, v) => s + v, 0) / diffs.length;
    const err = diffs.reduce((s, v) => s + (v - mean) ** 2, 0) / diffs.length;
    if (err < bestErr) {
      bestErr = err;
      best = alpha;
    }
  }
  return best;
}
