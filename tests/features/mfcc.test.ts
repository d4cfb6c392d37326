import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { createAudioDecoder } from '../../src/audio/decode.ts';
import { createResampler } from '../../src/audio/resample.ts';
import { createDctMatrix } from '../../src/features/dct.ts';
import { createMelFilterbank, hzToMelHtk } from '../../src/features/melFilterbank.ts';
import { createFeatureExtractor, DEFAULT_FEATURE_PARAMS, fixFrames, type FeatureParams } from '../../src/features/mfcc.ts';
import { repoRoot, SHARED_DATA } from '../fixtures/paths.ts';

interface Reference {
  numpy: string;
  params: FeatureParams & { resampleQuality: number; offsetSamples: number; frames: number };
  clips: { clip: string; sourceRate: number; segmentF32Base64: string; mfcc: number[][]; logmel: number[][] }[];
}
const reference = JSON.parse(readFileSync(path.join(repoRoot, 'tests/fixtures/audio/mfcc-reference.json'), 'utf8')) as Reference;

const maxAbsDiff = (got: Float32Array, want: number[][]) => {
  let m = 0;
  want.flat().forEach((v, i) => (m = Math.max(m, Math.abs(got[i]! - v))));
  return m;
};
const decodeSegment = (b64: string) => {
  const bytes = Buffer.from(b64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};

/*
 * Tolerance: 2e-4 absolute, on MFCCs of magnitude up to ~45 (natural log, so smaller than the
 * ±500 of dB-scaled librosa MFCCs). The numpy anchor computes in float32 (window·frame, power,
 * mel and DCT matmuls; numpy ≥ 2 also runs the FFT in float32) while xp works in float64 and
 * rounds the output to float32, so the two differ by accumulated float32 rounding: measured
 * ≤ 1.2e-5 on these clips (numpy 1.24) and 4.8e-6 on the anchor's own noise input (numpy 2.4).
 * Real convention slips are far larger: on these segments a symmetric instead of periodic Hann
 * window moves values by 0.065, a 1e-6 log floor by 0.21, fmax 7900 instead of 8000 by 0.5.
 */
const TOL = 2e-4;

describe('parity with the numpy anchor (shared/anchors/features_bench.py)', () => {
  test('the fixture was made with the anchor settings xp defaults to', () => {
    const { params } = reference;
    expect({ ...DEFAULT_FEATURE_PARAMS }).toEqual({
      kind: params.kind,
      sampleRate: params.sampleRate,
      nFft: params.nFft,
      windowMs: params.windowMs,
      hopMs: params.hopMs,
      nMels: params.nMels,
      nMfcc: params.nMfcc,
      fmin: params.fmin,
      fmax: params.fmax,
    });
    expect(reference.clips.length).toBeGreaterThanOrEqual(2);
  });

  for (const ref of reference.clips) {
    describe(ref.clip, () => {
      const segment = decodeSegment(ref.segmentF32Base64);

      test(`MFCC (${ref.mfcc.length}×${ref.mfcc[0]!.length}) within ${TOL} of numpy`, () => {
        const out = createFeatureExtractor(DEFAULT_FEATURE_PARAMS).extract(segment);
        expect([out.frames, out.coeffs]).toEqual([ref.mfcc.length, ref.mfcc[0]!.length]);
        // Natural-log MFCCs of speech: c0 around −40, higher coefficients within ±20.
        const scale = Math.max(...ref.mfcc.flat().map(Math.abs));
        expect(scale).toBeGreaterThan(10); // real speech, not a degenerate segment
        expect(maxAbsDiff(out.data, ref.mfcc)).toBeLessThan(TOL);
      });

      test(`log-mel within ${TOL} of numpy`, () => {
        const out = createFeatureExtractor({ ...DEFAULT_FEATURE_PARAMS, kind: 'logmel' }).extract(segment);
        expect([out.frames, out.coeffs]).toEqual([ref.logmel.length, 40]);
        expect(maxAbsDiff(out.data, ref.logmel)).toBeLessThan(TOL);
      });

      test('xp decode + resample reproduces the segment numpy saw, and framing is offset-consistent', async () => {
        const decoder = await createAudioDecoder();
        const resampler = await createResampler(reference.params.resampleQuality);
        const decoded = await decoder.decode(readFileSync(path.join(SHARED_DATA, ref.clip)));
        await decoder.close();
        expect(decoded.sampleRate).toBe(ref.sourceRate);
        const y = resampler.resample(decoded.samples, decoded.sampleRate, 16000);
        resampler.close();
        const off = reference.params.offsetSamples;
        let d = 0;
        for (let i = 0; i < segment.length; i++) d = Math.max(d, Math.abs(y[off + i]! - segment[i]!));
        expect(d).toBeLessThanOrEqual(1e-6);
        // Frames of the whole clip starting at `off` are the segment's frames.
        const ex = createFeatureExtractor(DEFAULT_FEATURE_PARAMS);
        const full = ex.extract(y);
        const first = off / ex.hopLength;
        const rows = full.data.subarray(first * 40, (first + ref.mfcc.length) * 40);
        expect(maxAbsDiff(rows, ref.mfcc)).toBeLessThan(TOL);
      });
    });
  }
});

describe('framing, log-mel and DCT conventions', () => {
  const ex = createFeatureExtractor(DEFAULT_FEATURE_PARAMS);

  test('uncentred frames: 1 + ⌊(n − 400)/160⌋, none below one window', () => {
    expect([ex.windowLength, ex.hopLength, ex.coeffs]).toEqual([400, 160, 40]);
    for (const n of [400, 559, 560, 16000, 48123]) {
      expect(ex.extract(new Float32Array(n)).frames).toBe(1 + Math.floor((n - 400) / 160));
    }
    expect(ex.extract(new Float32Array(399)).frames).toBe(0);
  });

  test('digital silence gives the log floor ln(1e-10) in every band', () => {
    const lm = createFeatureExtractor({ ...DEFAULT_FEATURE_PARAMS, kind: 'logmel' }).extract(new Float32Array(1000));
    for (const v of lm.data) expect(v).toBeCloseTo(Math.log(1e-10), 5);
  });

  test('a 1 kHz tone peaks in the mel band centred nearest 1 kHz', () => {
    const x = Float32Array.from({ length: 4000 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 16000));
    const lm = createFeatureExtractor({ ...DEFAULT_FEATURE_PARAMS, kind: 'logmel' }).extract(x);
    const row = Array.from(lm.data.subarray(5 * 40, 6 * 40));
    const peak = row.indexOf(Math.max(...row));
    const melStep = hzToMelHtk(8000) / 41;
    const centres = Array.from({ length: 40 }, (_, m) => (m + 1) * melStep);
    const nearest = centres.reduce((best, c, m) => (Math.abs(c - hzToMelHtk(1000)) < Math.abs(centres[best]! - hzToMelHtk(1000)) ? m : best), 0);
    expect(Math.abs(peak - nearest)).toBeLessThanOrEqual(1);
  });

  test('MFCC = orthonormal DCT-II of log-mel; the DCT matrix is orthonormal', () => {
    const d = createDctMatrix(40, 40);
    for (let a = 0; a < 40; a++) {
      for (let b = 0; b < 40; b++) {
        let s = 0;
        for (let n = 0; n < 40; n++) s += d[a * 40 + n]! * d[b * 40 + n]!;
        expect(s).toBeCloseTo(a === b ? 1 : 0, 5);
      }
    }
    const x = Float32Array.from({ length: 3000 }, (_, i) => Math.sin(i * 0.3) * Math.sin(i * 0.0123));
    const lm = createFeatureExtractor({ ...DEFAULT_FEATURE_PARAMS, kind: 'logmel' }).extract(x);
    const mf = createFeatureExtractor({ ...DEFAULT_FEATURE_PARAMS, nMfcc: 13 }).extract(x);
    expect(mf.coeffs).toBe(13);
    for (let t = 0; t < lm.frames; t++) {
      for (let k = 0; k < 13; k++) {
        let s = 0;
        for (let m = 0; m < 40; m++) s += d[k * 40 + m]! * lm.data[t * 40 + m]!;
        expect(mf.data[t * 13 + k]).toBeCloseTo(s, 3);
      }
    }
  });

  test('odd mel counts and a custom band: still the DCT of the log-mel', () => {
    const params = { ...DEFAULT_FEATURE_PARAMS, nMels: 23, nMfcc: 23, fmin: 80, fmax: 7600 };
    const x = Float32Array.from({ length: 2000 }, (_, i) => Math.sin(i * 0.21) + 0.3 * Math.sin(i * 1.7));
    const lm = createFeatureExtractor({ ...params, kind: 'logmel' }).extract(x);
    const mf = createFeatureExtractor(params).extract(x);
    const d = createDctMatrix(23, 23);
    for (let k = 0; k < 23; k++) {
      let s = 0;
      for (let m = 0; m < 23; m++) s += d[k * 23 + m]! * lm.data[m]!;
      expect(mf.data[k]).toBeCloseTo(s, 3);
    }
  });

  test('mel filterbank: HTK triangles with peak ≤ 1 tiling the band', () => {
    const bank = createMelFilterbank(16000, 512, 40, 0, 8000);
    const dense = new Float64Array(257);
    for (let m = 0; m < 40; m++) {
      for (let j = 0; j < bank.length[m]!; j++) {
        const w = bank.weights[bank.offset[m]! + j]!;
        expect(w).toBeGreaterThan(0);
        expect(w).toBeLessThanOrEqual(1);
        dense[bank.start[m]! + j]! += w;
      }
    }
    // Between the first and the last band centre, adjacent triangles sum to 1.
    const centreHz = (m: number) => 700 * (10 ** (((m + 1) * hzToMelHtk(8000)) / 41 / 2595) - 1);
    const firstBin = Math.ceil(centreHz(0) / 31.25);
    const lastBin = Math.floor(centreHz(39) / 31.25);
    expect(lastBin - firstBin).toBeGreaterThan(200);
    for (let k = firstBin; k <= lastBin; k++) expect(dense[k]).toBeCloseTo(1, 5);
  });

  test('invalid parameters are rejected with a reason', () => {
    expect(() => createFeatureExtractor({ ...DEFAULT_FEATURE_PARAMS, nFft: 500 })).toThrow(/power of two/);
    expect(() => createFeatureExtractor({ ...DEFAULT_FEATURE_PARAMS, windowMs: 40 })).toThrow(/exceeds nFft/);
    expect(() => createFeatureExtractor({ ...DEFAULT_FEATURE_PARAMS, nMfcc: 41 })).toThrow(/nMfcc/);
    expect(() => createFeatureExtractor({ ...DEFAULT_FEATURE_PARAMS, fmax: 9000 })).toThrow(/fmax/);
  });
});

describe('fixFrames', () => {
  const feat = { data: Float32Array.from({ length: 5 * 3 }, (_, i) => i + 1), frames: 5, coeffs: 3 };

  test('pads with zero rows and reports the valid ones', () => {
    const out = fixFrames(feat, 8);
    expect([out.frames, out.coeffs, out.validFrames]).toEqual([8, 3, 5]);
    expect(Array.from(out.data.subarray(0, 15))).toEqual(Array.from(feat.data));
    expect(Array.from(out.data.subarray(15))).toEqual(new Array(9).fill(0));
  });

  test('truncates to the first rows', () => {
    const out = fixFrames(feat, 2);
    expect([out.frames, out.validFrames]).toEqual([2, 2]);
    expect(Array.from(out.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('always copies', () => {
    const out = fixFrames(feat, 5);
    expect(out.data).not.toBe(feat.data);
    expect(out.data.buffer.byteLength).toBe(15 * 4);
  });
});
