/**
 * MFCC and log-mel features with the conventions of shared/anchors/features_bench.py, the numpy
 * reference xp is checked against (tests/features/mfcc.test.ts):
 *
 * - frames are not centred and not padded: frame t covers samples [t·hop, t·hop + win), so a clip
 *   of n ≥ win samples gives 1 + ⌊(n − win)/hop⌋ frames (none if n < win);
 * - periodic Hann window of `win` samples, zero-padded to nFft; power spectrum |X|²;
 * - HTK-scale triangular mel filters, peak 1, no normalisation (melFilterbank.ts);
 * - natural log with a 1e-10 floor: log(mel + 1e-10);
 * - MFCC = orthonormal DCT-II of the log-mel vector, first nMfcc coefficients (dct.ts);
 * - no pre-emphasis, no dithering, no liftering, no mean removal.
 *
 * All per-clip work runs on buffers allocated once per extractor, and the inner loops touch
 * typed arrays only: this is the hottest loop of a features stage.
 */
import FFT from 'fft.js';
import { createMelFilterbank, type MelFilterbank } from './melFilterbank.ts';
import { createDctMatrix } from './dct.ts';

export type FeatureKind = 'mfcc' | 'logmel';

export interface FeatureParams {
  kind: FeatureKind;
  sampleRate: number;
  nFft: number;
  windowMs: number;
  hopMs: number;
  nMels: number;
  /** Coefficients kept for kind 'mfcc' (ignored for 'logmel', which returns nMels values). */
  nMfcc: number;
  fmin: number;
  /** Upper edge of the mel bank; null means sampleRate / 2. */
  fmax: number | null;
}

/** The anchor's setting: 16 kHz, 25 ms / 10 ms, 512-point FFT, 40 mel bands, 40 MFCCs, 0–8 kHz. */
export const DEFAULT_FEATURE_PARAMS: Readonly<FeatureParams> = Object.freeze({
  kind: 'mfcc',
  sampleRate: 16000,
  nFft: 512,
  windowMs: 25,
  hopMs: 10,
  nMels: 40,
  nMfcc: 40,
  fmin: 0,
  fmax: null,
});

/** Row-major [frames][coeffs] features. */
export interface FeatureMatrix {
  data: Float32Array;
  frames: number;
  coeffs: number;
}

export interface FeatureExtractor {
  readonly params: Readonly<FeatureParams>;
  /** Samples per analysis window and per hop. */
  readonly windowLength: number;
  readonly hopLength: number;
  /** Values per frame (nMfcc for 'mfcc', nMels for 'logmel'). */
  readonly coeffs: number;
  /** Frames `extract` yields for a clip of `n` samples. */
  frameCount(n: number): number;
  extract(samples: Float32Array): FeatureMatrix;
}

const LOG_FLOOR = 1e-10;

export function createFeatureExtractor(params: FeatureParams): FeatureExtractor {
  const p = Object.freeze({ ...params });
  const win = Math.round((p.sampleRate * p.windowMs) / 1000);
  const hop = Math.round((p.sampleRate * p.hopMs) / 1000);
  validate(p, win, hop);
  const nFft = p.nFft;
  const nBins = (nFft >> 1) + 1;
  const nMels = p.nMels;
  const isMfcc = p.kind === 'mfcc';
  const coeffs = isMfcc ? p.nMfcc : nMels;

  // Periodic Hann, rounded to float32 like np.hanning(win + 1)[:-1].astype(np.float32).
  const window = new Float64Array(win);
  for (let i = 0; i < win; i++) window[i] = Math.fround(0.5 - 0.5 * Math.cos((2 * Math.PI * i) / win));
  const bank: MelFilterbank = createMelFilterbank(p.sampleRate, nFft, nMels, p.fmin, p.fmax ?? p.sampleRate / 2);
  const dct = isMfcc ? createDctMatrix(coeffs, nMels) : new Float64Array(0);
  // Folded DCT (see the frame loop): row k keeps its first ⌈nMels/2⌉ weights; odd rows use ⌊nMels/2⌋.
  const halfMels = nMels >> 1;
  const evenLen = nMels - halfMels;
  const dctFolded = new Float64Array(coeffs * evenLen);
  for (let k = 0; k < coeffs && isMfcc; k++) for (let m = 0; m < evenLen; m++) dctFolded[k * evenLen + m] = dct[k * nMels + m]!;
  const folded = new Float64Array(evenLen + halfMels);

  // A real nFft-point FFT computed as one nFft/2-point complex FFT: the frame buffer, read as
  // interleaved complex numbers, already is z[j] = x[2j] + i·x[2j+1], and a split step recovers
  // X[k]. This is ~30 % faster than fft.js's own realTransform(nFft), and the FFT is most of the
  // cost of a frame. fft.js is also faster on plain double Arrays than on Float64Arrays (V8 in
  // Node 20), so its two buffers are Arrays. The zero tail of `frame` is never written.
  const half = nFft >> 1;
  const fft = new FFT(half);
  const frame = packedDoubleArray(nFft);
  const z = packedDoubleArray(nFft);
  const splitCos = new Float64Array(half);
  const splitSin = new Float64Array(half);
  for (let k = 0; k < half; k++) {
    splitCos[k] = Math.cos((-2 * Math.PI * k) / nFft);
    splitSin[k] = Math.sin((-2 * Math.PI * k) / nFft);
  }
  const power = new Float64Array(nBins);
  const logMel = new Float64Array(nMels);
  const { start: bandStart, length: bandLength, offset: bandOffset, weights } = bank;

  const frameCount = (n: number): number => (n < win ? 0 : 1 + Math.floor((n - win) / hop));

  const extract = (samples: Float32Array): FeatureMatrix => {
    const frames = frameCount(samples.length);
    const out = new Float32Array(frames * coeffs);
    for (let t = 0; t < frames; t++) {
      const s0 = t * hop;
      for (let i = 0; i < win; i++) frame[i] = samples[s0 + i]! * window[i]!;
      fft.transform(z, frame);
      // Split: X[k] = E[k] + W^k·O[k] with 2E = Z[k] + conj Z[half−k], 2O = −i·(Z[k] − conj Z[half−k]).
      const z0r = z[0]!;
      const z0i = z[1]!;
      power[0] = (z0r + z0i) * (z0r + z0i);
      power[half] = (z0r - z0i) * (z0r - z0i);
      for (let k = 1; k < half; k++) {
        const zr = z[2 * k]!;
        const zi = z[2 * k + 1]!;
        const yr = z[2 * (half - k)]!;
        const yi = -z[2 * (half - k) + 1]!;
        const er = zr + yr;
        const ei = zi + yi;
        const or = zi - yi;
        const oi = yr - zr;
        const c = splitCos[k]!;
        const sn = splitSin[k]!;
        const xr = er + or * c - oi * sn;
        const xi = ei + or * sn + oi * c;
        power[k] = 0.25 * (xr * xr + xi * xi);
      }
      for (let m = 0; m < nMels; m++) {
        let acc = 0;
        const k0 = bandStart[m]!;
        const w0 = bandOffset[m]!;
        const len = bandLength[m]!;
        for (let j = 0; j < len; j++) acc += weights[w0 + j]! * power[k0 + j]!;
        logMel[m] = Math.log(acc + LOG_FLOOR);
      }
      const row = t * coeffs;
      if (isMfcc) {
        // DCT-II rows are symmetric (even k) or antisymmetric (odd k) about the centre, so fold
        // the log-mel vector once into sums and differences and do half the multiplies.
        for (let m = 0; m < halfMels; m++) {
          const a = logMel[m]!;
          const b = logMel[nMels - 1 - m]!;
          folded[m] = a + b;
          folded[evenLen + m] = a - b;
        }
        if (evenLen > halfMels) folded[halfMels] = logMel[halfMels]!; // odd nMels: the centre
        for (let k = 0; k < coeffs; k++) {
          const odd = k & 1;
          const len = odd ? halfMels : evenLen;
          const src = odd ? evenLen : 0;
          const d = k * evenLen;
          let acc0 = 0;
          let acc1 = 0;
          let m = 0;
          for (; m + 1 < len; m += 2) {
            acc0 += dctFolded[d + m]! * folded[src + m]!;
            acc1 += dctFolded[d + m + 1]! * folded[src + m + 1]!;
          }
          if (m < len) acc0 += dctFolded[d + m]! * folded[src + m]!;
          out[row + k] = acc0 + acc1;
        }
      } else {
        for (let m = 0; m < nMels; m++) out[row + m] = logMel[m]!;
      }
    }
    return { data: out, frames, coeffs };
  };

  return { params: p, windowLength: win, hopLength: hop, coeffs, frameCount, extract };
}

/** A zeroed Array that V8 stores as unboxed doubles (PACKED_DOUBLE_ELEMENTS), not as tagged values. */
function packedDoubleArray(n: number): number[] {
  const a = Array.from({ length: n }, () => 0.5);
  return a.fill(0);
}

function validate(p: FeatureParams, win: number, hop: number): void {
  const fail = (msg: string): never => {
    throw new RangeError(`feature params: ${msg}`);
  };
  if (p.kind !== 'mfcc' && p.kind !== 'logmel') fail(`kind must be 'mfcc' or 'logmel', got ${String(p.kind)}`);
  if (!Number.isInteger(p.sampleRate) || p.sampleRate <= 0) fail(`sampleRate must be a positive integer, got ${p.sampleRate}`);
  if (!Number.isInteger(p.nFft) || p.nFft < 4 || (p.nFft & (p.nFft - 1)) !== 0) fail(`nFft must be a power of two, got ${p.nFft}`);
  if (!(win >= 1)) fail(`windowMs ${p.windowMs} gives no samples at ${p.sampleRate} Hz`);
  if (win > p.nFft) fail(`window of ${win} samples (${p.windowMs} ms) exceeds nFft ${p.nFft}`);
  if (!(hop >= 1)) fail(`hopMs ${p.hopMs} gives no samples at ${p.sampleRate} Hz`);
  if (!Number.isInteger(p.nMels) || p.nMels < 1) fail(`nMels must be a positive integer, got ${p.nMels}`);
  if (p.kind === 'mfcc' && (!Number.isInteger(p.nMfcc) || p.nMfcc < 1 || p.nMfcc > p.nMels)) {
    fail(`nMfcc must be an integer in 1..nMels (${p.nMels}), got ${p.nMfcc}`);
  }
}

/** Features padded with zero frames or truncated to exactly `frames` rows. */
export interface FixedFrames extends FeatureMatrix {
  /** Rows that hold real features (the rest are padding), so a model can mask them. */
  validFrames: number;
}

/** Pads (zeros at the end) or truncates (keeps the start) to exactly `frames` rows. Always copies. */
export function fixFrames(feat: FeatureMatrix, frames: number): FixedFrames {
  if (!Number.isInteger(frames) || frames < 1) throw new RangeError(`fixFrames: frames must be a positive integer, got ${frames}`);
  const validFrames = Math.min(feat.frames, frames);
  const data = new Float32Array(frames * feat.coeffs);
  data.set(feat.data.subarray(0, validFrames * feat.coeffs));
  return { data, frames, coeffs: feat.coeffs, validFrames };
}
