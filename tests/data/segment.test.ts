import { describe, expect, it } from 'vitest';
import { findSegments, frameLevelsDb, segmentUtterance } from '../../scripts/cv-mini/segment.ts';
import { upsample2x } from '../../scripts/cv-mini/upsample2x.ts';
import { mulberry32 } from '../../src/data/rng.ts';

const SR = 16000;

/** "Words": 150–700 ms noise bursts; "pauses": 40–600 ms of near-silence. Returns the word spans too. */
function synthetic(seconds: number, seed: number): { audio: Float32Array; words: Array<[number, number]> } {
  const rand = mulberry32(seed);
  const audio = new Float32Array(seconds * SR);
  const words: Array<[number, number]> = [];
  let t = Math.round(0.3 * SR);
  while (t < audio.length - SR) {
    const len = Math.round((0.15 + 0.55 * rand()) * SR);
    for (let i = t; i < t + len; i++) audio[i] = 0.3 * (rand() * 2 - 1) * Math.sin((Math.PI * (i - t)) / len);
    words.push([t, t + len]);
    t += len + Math.round((rand() < 0.7 ? 0.04 + 0.05 * rand() : 0.2 + 0.4 * rand()) * SR);
  }
  for (let i = 0; i < audio.length; i++) audio[i]! += 1e-4 * (rand() * 2 - 1);
  return { audio, words };
}

describe('cv-mini segmentation', () => {
  it('cuts only between words, into clips of the allowed length', () => {
    for (const seed of [1, 2, 3]) {
      const { audio, words } = synthetic(40, seed);
      const segments = findSegments(audio, { sampleRate: SR, minClipS: 3, maxClipS: 6 });
      expect(segments.length).toBeGreaterThan(3);
      let covered = 0;
      for (const s of segments) {
        expect(s.end - s.start).toBeGreaterThanOrEqual(3 * SR);
        expect(s.end - s.start).toBeLessThanOrEqual(6 * SR);
        covered += s.end - s.start;
        for (const [a, b] of words) {
          // A word is either entirely inside the clip or entirely outside it.
          const inside = a >= s.start && b <= s.end;
          const outside = b <= s.start || a >= s.end;
          expect(inside || outside, `word ${a}-${b} vs clip ${s.start}-${s.end}`).toBe(true);
        }
      }
      for (let i = 1; i < segments.length; i++) expect(segments[i]!.start).toBeGreaterThanOrEqual(segments[i - 1]!.end);
      expect(covered / audio.length).toBeGreaterThan(0.6);
    }
  });

  it('returns nothing for audio shorter than the minimum clip', () => {
    expect(findSegments(synthetic(2, 1).audio.subarray(0, 2 * SR), { sampleRate: SR })).toEqual([]);
    expect(segmentUtterance(new Float32Array(100), { sampleRate: SR }).segments).toEqual([]);
  });

  it('frame levels follow the signal', () => {
    const audio = new Float32Array(SR).fill(0.5);
    const { levels, hop } = frameLevelsDb(audio, SR);
    expect(hop).toBe(160);
    expect(levels[0]).toBeCloseTo(10 * Math.log10(0.25), 3);
  });
});

describe('2× upsampler', () => {
  it('keeps a 1 kHz tone at unit gain and puts no energy at its 15 kHz image', () => {
    const x = new Float32Array(SR);
    for (let i = 0; i < x.length; i++) x[i] = Math.sin((2 * Math.PI * 1000 * i) / SR);
    const y = upsample2x(x);
    expect(y.length).toBe(2 * x.length);
    const amp = (f: number): number => {
      let re = 0;
      let im = 0;
      for (let i = 4000; i < 28000; i++) {
        re += y[i]! * Math.cos((2 * Math.PI * f * i) / 32000);
        im += y[i]! * Math.sin((2 * Math.PI * f * i) / 32000);
      }
      return (2 * Math.hypot(re, im)) / 24000;
    };
    expect(amp(1000)).toBeCloseTo(1, 3);
    expect(20 * Math.log10(amp(15000))).toBeLessThan(-70);
  });
});
