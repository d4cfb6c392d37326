/**
 * YIN fundamental-frequency tracker (A. de Cheveigné & H. Kawahara, "YIN, a fundamental frequency
 * estimator for speech and music", JASA 111(4), 2002), steps 1–5:
 *   2. difference function d(τ) = Σ_{j<W} (x_j − x_{j+τ})²
 *   3. cumulative mean normalised difference d'(τ) = d(τ)·τ / Σ_{1≤j≤τ} d(j), d'(0) = 1
 *   4. absolute threshold: the first τ in [sr/fmax, sr/fmin] with d'(τ) < threshold, moved on to
 *      the bottom of that dip; no such τ → unvoiced
 *   5. parabolic interpolation of d around the chosen τ for sub-sample precision.
 * Step 6 (best local estimate) is left out. d(τ) is computed as E₀ + E_τ − 2·r(τ), with the
 * cross-correlation r from one FFT product per frame and the energies from running sums, which is
 * ~4× cheaper than the direct double loop at 16 kHz.
 *
 * A frame whose energy is more than `silenceDb` below the loudest frame is also unvoiced: silence
 * and faint noise between words otherwise produce occasional spurious dips.
 */
import FFT from 'fft.js';

export interface YinOptions {
  /** Lowest F0 searched, Hz (default 60). */
  fmin?: number;
  /** Highest F0 searched, Hz (default 500). */
  fmax?: number;
  /** Absolute threshold on d' (default 0.1, the paper's value). */
  threshold?: number;
  /** Frame step in ms (default 10). */
  hopMs?: number;
  /** Integration window W in ms (default: one period of fmin). */
  windowMs?: number;
  /** Energy gate in dB below the loudest frame (default 40; Infinity disables it). */
  silenceDb?: number;
}

export interface PitchTrack {
  sampleRate: number;
  hopLength: number;
  /** F0 in Hz per frame; NaN where unvoiced. */
  f0: Float32Array;
  /** 1 where voiced. */
  voiced: Uint8Array;
  /** d' at the chosen lag (or its minimum when unvoiced): 0 = perfectly periodic. */
  aperiodicity: Float32Array;
  /** Centre of each frame's analysis span, in seconds. */
  times: Float32Array;
}

export function yin(samples: Float32Array, sampleRate: number, options: YinOptions = {}): PitchTrack {
  const fmin = options.fmin ?? 60;
  const fmax = options.fmax ?? 500;
  const threshold = options.threshold ?? 0.1;
  const silenceDb = options.silenceDb ?? 40;
  if (!(fmin > 0 && fmax > fmin && fmax < sampleRate / 2)) throw new RangeError(`yin: need 0 < fmin < fmax < sr/2, got ${fmin}, ${fmax}`);
  const hop = Math.max(1, Math.round((sampleRate * (options.hopMs ?? 10)) / 1000));
  const tauMin = Math.max(2, Math.floor(sampleRate / fmax));
  const tauMax = Math.ceil(sampleRate / fmin);
  const w = options.windowMs !== undefined ? Math.max(1, Math.round((sampleRate * options.windowMs) / 1000)) : tauMax;
  // d is needed for τ = 0..tauMax+1 (the +1 for interpolation at tauMax).
  const lags = tauMax + 2;
  const span = w + lags - 1; // samples one frame reads
  const n = samples.length;
  const frames = n < span ? 0 : 1 + Math.floor((n - span) / hop);

  // Circular correlation wraps negative lags to the top of the buffer; nFft ≥ span keeps them
  // clear of the lags 0..tauMax+1 read below.
  let nFft = 4;
  while (nFft < span) nFft <<= 1;
  const fft = new FFT(nFft);
  const product = fft.createComplexArray() as number[];
  const specA = fft.createComplexArray() as number[];
  const specB = fft.createComplexArray() as number[];
  const corr = fft.createComplexArray() as number[];
  const realA = new Array<number>(nFft).fill(0);
  const realB = new Array<number>(nFft).fill(0);
  const d = new Float64Array(lags);
  const dn = new Float64Array(lags);

  const sq = new Float64Array(n + 1); // running sum of squares
  for (let i = 0; i < n; i++) sq[i + 1] = sq[i]! + samples[i]! * samples[i]!;

  const f0 = new Float32Array(frames);
  const voiced = new Uint8Array(frames);
  const aperiodicity = new Float32Array(frames);
  const times = new Float32Array(frames);
  let maxEnergy = 0;
  for (let t = 0; t < frames; t++) maxEnergy = Math.max(maxEnergy, sq[t * hop + w]! - sq[t * hop]!);
  const energyFloor = Number.isFinite(silenceDb) ? maxEnergy * 10 ** (-silenceDb / 10) : -Infinity;

  for (let t = 0; t < frames; t++) {
    const s0 = t * hop;
    times[t] = (s0 + span / 2) / sampleRate;
    f0[t] = NaN;
    aperiodicity[t] = 1;
    const e0 = sq[s0 + w]! - sq[s0]!;
    if (e0 <= energyFloor || e0 === 0) continue;

    // r(τ) = Σ_{j<W} x[s0+j]·x[s0+j+τ] = IFFT(conj(FFT(a))·FFT(b))[τ], a = first W samples, b = the span.
    for (let i = 0; i < w; i++) realA[i] = samples[s0 + i]!;
    for (let i = 0; i < span; i++) realB[i] = samples[s0 + i]!;
    fft.realTransform(specA, realA);
    fft.realTransform(specB, realB);
    fft.completeSpectrum(specA);
    fft.completeSpectrum(specB);
    for (let k = 0; k < 2 * nFft; k += 2) {
      const ar = specA[k]!;
      const ai = specA[k + 1]!;
      const br = specB[k]!;
      const bi = specB[k + 1]!;
      product[k] = ar * br + ai * bi;
      product[k + 1] = ar * bi - ai * br;
    }
    fft.inverseTransform(corr, product);

    d[0] = 0;
    dn[0] = 1;
    let running = 0;
    for (let tau = 1; tau < lags; tau++) {
      const et = sq[s0 + tau + w]! - sq[s0 + tau]!;
      // Rounding can make a near-zero difference slightly negative; d is a sum of squares.
      const v = Math.max(0, e0 + et - 2 * corr[2 * tau]!);
      d[tau] = v;
      running += v;
      dn[tau] = running > 0 ? (v * tau) / running : 1;
    }

    let best = -1;
    for (let tau = tauMin; tau <= tauMax; tau++) {
      if (dn[tau]! < threshold) {
        while (tau + 1 <= tauMax && dn[tau + 1]! < dn[tau]!) tau++;
        best = tau;
        break;
      }
    }
    if (best < 0) {
      let min = Infinity;
      for (let tau = tauMin; tau <= tauMax; tau++) min = Math.min(min, dn[tau]!);
      aperiodicity[t] = min;
      continue;
    }
    // Parabola through d(τ−1), d(τ), d(τ+1) (the paper interpolates d, not d', to avoid bias).
    const a = d[best - 1]!;
    const b = d[best]!;
    const c = d[best + 1]!;
    const denom = a - 2 * b + c;
    const shift = denom > 0 ? Math.max(-1, Math.min(1, (0.5 * (a - c)) / denom)) : 0;
    f0[t] = sampleRate / (best + shift);
    voiced[t] = 1;
    aperiodicity[t] = dn[best]!;
  }
  return { sampleRate, hopLength: hop, f0, voiced, aperiodicity, times };
}

/** Median F0 over voiced frames, NaN if none is voiced. */
export function medianF0(samples: Float32Array, sampleRate: number, options: YinOptions = {}): number {
  const track = yin(samples, sampleRate, options);
  const values = Array.from(track.f0).filter((v) => !Number.isNaN(v));
  if (values.length === 0) return NaN;
  values.sort((x, y) => x - y);
  const mid = values.length >> 1;
  return values.length % 2 ? values[mid]! : 0.5 * (values[mid - 1]! + values[mid]!);
}
