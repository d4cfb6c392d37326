/**
 * Triangular mel filters on the HTK mel scale (mel = 2595·log10(1 + f/700)), peak 1, no area
 * normalisation, laid over the FFT bin centres linspace(0, sr/2, nFft/2 + 1). This is exactly
 * `mel_filterbank` in shared/anchors/features_bench.py, which the feature parity test checks.
 *
 * Stored sparsely: each band keeps only its non-zero run of bins, so applying the bank costs
 * about 2·(nFft/2 + 1) multiply-adds instead of nMels·(nFft/2 + 1).
 */

export interface MelFilterbank {
  nMels: number;
  nBins: number;
  /** First non-zero bin of each band. */
  start: Int32Array;
  /** Number of non-zero bins of each band. */
  length: Int32Array;
  /** Offset of each band's weights in `weights`. */
  offset: Int32Array;
  /** All bands' non-zero weights, concatenated. */
  weights: Float64Array;
}

export const hzToMelHtk = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
export const melToHzHtk = (mel: number): number => 700 * (10 ** (mel / 2595) - 1);

export function createMelFilterbank(sampleRate: number, nFft: number, nMels: number, fmin: number, fmax: number): MelFilterbank {
  if (!(fmin >= 0 && fmax > fmin && fmax <= sampleRate / 2)) {
    throw new RangeError(`mel filterbank needs 0 ≤ fmin < fmax ≤ sampleRate/2, got fmin=${fmin} fmax=${fmax} at ${sampleRate} Hz`);
  }
  const nBins = (nFft >> 1) + 1;
  const melLo = hzToMelHtk(fmin);
  const melHi = hzToMelHtk(fmax);
  // np.linspace(mel(fmin), mel(fmax), nMels + 2) → Hz
  const edges = new Float64Array(nMels + 2);
  for (let i = 0; i < nMels + 2; i++) edges[i] = melToHzHtk(melLo + ((melHi - melLo) * i) / (nMels + 1));
  // np.linspace(0, sr/2, nBins)
  const freqs = new Float64Array(nBins);
  for (let k = 0; k < nBins; k++) freqs[k] = ((sampleRate / 2) * k) / (nBins - 1);

  const start = new Int32Array(nMels);
  const length = new Int32Array(nMels);
  const offset = new Int32Array(nMels);
  const weights: number[] = [];
  for (let m = 0; m < nMels; m++) {
    const lo = edges[m]!;
    const c = edges[m + 1]!;
    const hi = edges[m + 2]!;
    let first = -1;
    let last = -1;
    const band: number[] = [];
    for (let k = 0; k < nBins; k++) {
      // Weights are rounded to float32 like the reference's `.astype(np.float32)`.
      const w = Math.fround(Math.max(0, Math.min((freqs[k]! - lo) / (c - lo), (hi - freqs[k]!) / (hi - c))));
      band.push(w);
      if (w > 0) {
        if (first < 0) first = k;
        last = k;
      }
    }
    // A band narrower than one bin has no weight at all (it would be all zeros in numpy too).
    start[m] = first < 0 ? 0 : first;
    length[m] = first < 0 ? 0 : last - first + 1;
    offset[m] = weights.length;
    for (let k = start[m]!; k < start[m]! + length[m]!; k++) weights.push(band[k]!);
  }
  return { nMels, nBins, start, length, offset, weights: Float64Array.from(weights) };
}
