/**
 * Formant-preserving pitch shift by LPC envelope transfer (our own, permissive implementation;
 * Rubber Band's formant mode is GPL-2.0).
 *
 * Sonic shifts F0 by resampling pitch periods, which scales the spectral envelope (the formants)
 * by the same factor. Given the original x and Sonic's shift y (same duration, same time base),
 *
 *   out = g(t) · (A_y(t) / A_x(t)) · y
 *
 * where A_x, A_y are the LPC inverse filters of x and y around time t: filtering y with A_y
 * whitens it (a residual that keeps y's harmonics, i.e. the new F0), and 1/A_x imposes x's
 * envelope. g(t) sets the output's short-time energy to x's.
 *
 * Details:
 * - Analysis: Hann windows of `windowMs` (32 ms) every `hopMs` (16 ms, 50 % overlap), centred
 *   at multiples of the hop, identical for x and y. LPC uses the autocorrelation method on the
 *   pre-emphasised (1 − 0.97 z⁻¹) frame — the emphasis cancels in the ratio A_y/A_x, so the
 *   filters run on the raw signal — with a 60 Hz Gaussian lag window and −40 dB white-noise
 *   correction, then Levinson–Durbin. Order 2 + sr/1000 (at most 50). The order has to grow
 *   with the rate: the model spends poles on the whole band, including an MP3's empty top and
 *   Sonic's aliases, and with too few the transfer misses the formants (measured at +4 st: at
 *   32 kHz, order 24 left the envelope ~17 % high on two of four Common Voice clips, 34 kept all
 *   four within 4.5 %; at 48 kHz, order 40 left up to 16 %, 50 kept 4.5 %).
 * - Filtering: one continuous time-varying filter (FIR A_y, then all-pole 1/A_x, direct form,
 *   state carried across blocks, so there are no frame-edge transients and no overlap-add of
 *   IIR outputs). Coefficients change every hop/4: each sub-block's normalised autocorrelation is
 *   linearly interpolated between the two neighbouring analysis frames before Levinson–Durbin.
 *   A convex mix of positive-definite Toeplitz matrices is positive definite, so every
 *   sub-block's 1/A_x is stable.
 * - Gain: per analysis frame g = √(Σw²x² / Σw²s²) (s: the unscaled filter output), linearly
 *   interpolated between frame centres: the output takes the original's short-time energy as
 *   well as its envelope. Matching y's energy instead loses level wherever the shift pushed
 *   energy out of the band (after an upward shift and the 16 kHz downsample, the fricatives came
 *   out 3–4 dB weak above 4 kHz and the long-term centroid 4–5 % low). The target is kept within
 *   ±12 dB of y's energy, so a frame where x and y disagree (an onset a few ms apart, y's
 *   silent tail) cannot turn into a burst.
 * - A frame where x or y has zero energy is passed through (A_x = A_y = 1 there).
 *
 * Pure JS in float64, deterministic, output length = y's length. Cost grows with sr × order, i.e.
 * with sr²: ≈ 2–3 ms per audio second at 16 kHz, 6–9 at 32 kHz (on the shared, busy 2-core
 * machine; tests/audio/formants.test.ts prints it). Where only the band below 8 kHz matters (the feature
 * pipeline), run it on both signals after downsampling to 16 kHz: same envelope below 8 kHz,
 * a fraction of the cost (extractClip does this).
 */

export interface FormantPreserveOptions {
  /** Analysis window, ms (default 32). */
  windowMs?: number;
  /** Hop between analysis frames, ms (default 16: 50 % overlap). */
  hopMs?: number;
  /** LPC order (default min(50, 2 + round(sr/1000))). */
  order?: number;
  /** Gaussian lag window bandwidth, Hz (default 60): smooths the envelopes, steadies the filters. */
  lagWindowHz?: number;
}

const PRE_EMPHASIS = 0.97;
const WHITE_NOISE_CORRECTION = 1.0001;
const SUB_BLOCKS = 4;
const MAX_ORDER = 50;
const LAG_PAD = 3;
/** The output's frame energy follows x's, but stays within this factor (12 dB) of y's. */
const GAIN_RANGE = 16;

export function defaultLpcOrder(sampleRate: number): number {
  return Math.min(MAX_ORDER, 2 + Math.round(sampleRate / 1000));
}

/**
 * Levinson–Durbin on r[0..p] (r[0] > 0). Writes a[0..p] with a[0] = 1 so that
 * e[n] = Σ a[k]·x[n−k] is the prediction error. If a reflection coefficient reaches |k| ≥ 1
 * (numerically singular), the recursion stops there and the higher coefficients stay 0.
 * Returns the final prediction-error power.
 */
export function levinson(r: Float64Array, p: number, a: Float64Array): number {
  a.fill(0, 0, p + 1);
  a[0] = 1;
  let err = r[0]!;
  if (!(err > 0)) return 0;
  for (let i = 1; i <= p; i++) {
    let acc = r[i]!;
    for (let j = 1; j < i; j++) acc += a[j]! * r[i - j]!;
    const k = -acc / err;
    if (!(Math.abs(k) < 1)) break;
    // a_j ← a_j + k·a_{i−j}, in place, pairwise from both ends.
    for (let j = 1, m = i - 1; j <= m; j++, m--) {
      const aj = a[j]!;
      const am = a[m]!;
      a[j] = aj + k * am;
      if (m !== j) a[m] = am + k * aj;
    }
    a[i] = k;
    err *= 1 - k * k;
  }
  return err;
}

/**
 * Windowed, pre-emphasised autocorrelation r[0..p] of src around [start, start + w.length),
 * zero outside the signal, normalised so r[0] = 1 and with lag window and white-noise correction
 * applied. Returns the raw r[0] (0: silent frame; r is then left as the unit impulse).
 */
function frameAutocorr(
  src: Float32Array,
  start: number,
  win: Float64Array,
  buf: Float64Array,
  p: number,
  lagWin: Float64Array,
  r: Float64Array,
): number {
  const len = win.length;
  const n = src.length;
  // buf = [LAG_PAD zeros, the windowed frame]: the unrolled loop below reads up to 3 samples
  // before the frame, which must be zeros.
  for (let i = 0; i < len; i++) {
    const t = start + i;
    const cur = t >= 0 && t < n ? src[t]! : 0;
    const prev = t - 1 >= 0 && t - 1 < n ? src[t - 1]! : 0;
    buf[LAG_PAD + i] = (cur - PRE_EMPHASIS * prev) * win[i]!;
  }
  const end = LAG_PAD + len;
  // Four lags per pass over the frame (a quarter of the loads). For lag k + j the products at
  // i < LAG_PAD + k + j read the zero padding, so starting every lag at LAG_PAD + k is exact.
  for (let k = 0; k <= p; k += 4) {
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    for (let i = LAG_PAD + k; i < end; i++) {
      const v = buf[i]!;
      const o = i - k;
      a0 += v * buf[o]!;
      a1 += v * buf[o - 1]!;
      a2 += v * buf[o - 2]!;
      a3 += v * buf[o - 3]!;
    }
    r[k] = a0;
    if (k + 1 <= p) r[k + 1] = a1;
    if (k + 2 <= p) r[k + 2] = a2;
    if (k + 3 <= p) r[k + 3] = a3;
  }
  const r0 = r[0]!;
  if (!(r0 > 0)) {
    r.fill(0);
    r[0] = 1;
    return 0;
  }
  const inv = 1 / r0;
  r[0] = WHITE_NOISE_CORRECTION;
  for (let k = 1; k <= p; k++) r[k] = r[k]! * inv * lagWin[k]!;
  return r0;
}

/** sp[t] = Σ_{k=0..p} ay[k]·yp[t−k] − Σ_{k=1..p} ax[k]·sp[t−k] for t in [t0, t1) (ay[0] = 1). */
function filterBlock(yp: Float64Array, sp: Float64Array, ay: Float64Array, ax: Float64Array, p: number, t0: number, t1: number): void {
  for (let t = t0; t < t1; t++) {
    // Two independent accumulators per filter shorten the floating-point dependency chain.
    let f0 = yp[t]!;
    let f1 = 0;
    let r0 = 0;
    let r1 = 0;
    let k = 1;
    for (; k < p; k += 2) {
      f0 += ay[k]! * yp[t - k]!;
      r0 += ax[k]! * sp[t - k]!;
      f1 += ay[k + 1]! * yp[t - k - 1]!;
      r1 += ax[k + 1]! * sp[t - k - 1]!;
    }
    if (k === p) {
      f0 += ay[k]! * yp[t - k]!;
      r0 += ax[k]! * sp[t - k]!;
    }
    sp[t] = f0 + f1 - (r0 + r1);
  }
}

/**
 * Re-imposes the spectral envelope of `original` on `shifted` (its pitch-shifted copy on the same
 * time base), keeping the shifted pitch. Returns a new array of `shifted.length` samples.
 * `original` may differ in length; it is read as zero past its end.
 */
export function preserveFormants(
  original: Float32Array,
  shifted: Float32Array,
  sampleRate: number,
  options: FormantPreserveOptions = {},
): Float32Array {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`preserveFormants: bad sample rate ${sampleRate}`);
  const n = shifted.length;
  if (n === 0) return new Float32Array(0);
  const winLen = Math.max(8, 2 * Math.round((sampleRate * (options.windowMs ?? 32)) / 2000));
  const hop = Math.max(SUB_BLOCKS, Math.round((sampleRate * (options.hopMs ?? 16)) / 1000));
  const p = Math.min(options.order ?? defaultLpcOrder(sampleRate), winLen - 1);
  if (!Number.isInteger(p) || p < 1) throw new RangeError(`preserveFormants: LPC order must be a positive integer, got ${options.order}`);

  const win = new Float64Array(winLen);
  for (let i = 0; i < winLen; i++) win[i] = Math.sin((Math.PI * (i + 0.5)) / winLen) ** 2;
  const lagWin = new Float64Array(p + 1);
  const lagHz = options.lagWindowHz ?? 60;
  for (let k = 0; k <= p; k++) lagWin[k] = Math.exp(-0.5 * ((2 * Math.PI * lagHz * k) / sampleRate) ** 2);

  // Analysis frames centred at f·hop, f = 0..F−1, covering [0, n].
  const frames = Math.floor((n - 1) / hop) + 2;
  const half = winLen / 2;
  const rx = new Float64Array(frames * (p + 1));
  const ry = new Float64Array(frames * (p + 1));
  const buf = new Float64Array(LAG_PAD + winLen);
  const r = new Float64Array(p + 1);
  for (let f = 0; f < frames; f++) {
    const start = f * hop - half;
    const ex = frameAutocorr(original, start, win, buf, p, lagWin, r);
    rx.set(r, f * (p + 1));
    const ey = frameAutocorr(shifted, start, win, buf, p, lagWin, r);
    ry.set(r, f * (p + 1));
    if (ex === 0 || ey === 0) {
      // Pass through: both envelopes flat, so A_y / A_x = 1 here.
      const o = f * (p + 1);
      rx.fill(0, o, o + p + 1);
      ry.fill(0, o, o + p + 1);
      rx[o] = 1;
      ry[o] = 1;
    }
  }

  // Time-varying filter. yp / sp carry p leading zeros so the inner loops need no bounds checks.
  const yp = new Float64Array(n + p);
  for (let i = 0; i < n; i++) yp[p + i] = shifted[i]!;
  const sp = new Float64Array(n + p);
  const ax = new Float64Array(p + 1);
  const ay = new Float64Array(p + 1);
  const rix = new Float64Array(p + 1);
  const riy = new Float64Array(p + 1);
  const sub = hop / SUB_BLOCKS;
  for (let f = 0; f + 1 < frames; f++) {
    const o0 = f * (p + 1);
    const o1 = o0 + p + 1;
    for (let b = 0; b < SUB_BLOCKS; b++) {
      const i0 = f * hop + Math.round(b * sub);
      const i1 = Math.min(n, f * hop + Math.round((b + 1) * sub));
      if (i0 >= i1) continue;
      const alpha = ((i0 + i1) / 2 - f * hop) / hop;
      for (let k = 0; k <= p; k++) {
        rix[k] = (1 - alpha) * rx[o0 + k]! + alpha * rx[o1 + k]!;
        riy[k] = (1 - alpha) * ry[o0 + k]! + alpha * ry[o1 + k]!;
      }
      levinson(rix, p, ax);
      levinson(riy, p, ay);
      filterBlock(yp, sp, ay, ax, p, i0 + p, i1 + p);
    }
  }

  // Per-frame gain to x's windowed energy (within ±12 dB of y's), interpolated linearly between
  // frame centres.
  const gain = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    const start = f * hop - half;
    let ey = 0;
    let es = 0;
    let ex = 0;
    const lo = Math.max(0, -start);
    const hi = Math.min(winLen, n - start);
    for (let i = lo; i < hi; i++) {
      const w2 = win[i]! * win[i]!;
      const yv = yp[p + start + i]!;
      const sv = sp[p + start + i]!;
      const t = start + i;
      const xv = t < original.length ? original[t]! : 0;
      ey += w2 * yv * yv;
      es += w2 * sv * sv;
      ex += w2 * xv * xv;
    }
    const target = ex > 0 ? Math.min(GAIN_RANGE * ey, Math.max(ey / GAIN_RANGE, ex)) : ey;
    gain[f] = es > 0 && ey > 0 ? Math.sqrt(target / es) : ey > 0 ? 1 : 0;
  }
  const out = new Float32Array(n);
  let finite = true;
  for (let i = 0; i < n; i++) {
    const f = Math.floor(i / hop);
    const alpha = (i - f * hop) / hop;
    const v = sp[p + i]! * ((1 - alpha) * gain[f]! + alpha * gain[f + 1]!);
    if (!Number.isFinite(v)) finite = false;
    out[i] = v;
  }
  // Cannot happen with stable per-block filters and finite input; never hand NaN/Inf downstream.
  if (!finite) throw new Error('preserveFormants: non-finite output (non-finite input?)');
  return out;
}
