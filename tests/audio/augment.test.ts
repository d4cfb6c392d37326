import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { addNoise, createAugmenter, type Augmenter } from '../../src/audio/augment.ts';
import { createAudioDecoder } from '../../src/audio/decode.ts';
import { medianF0 } from '../../src/audio/pitch.ts';
import { createResampler, type Resampler } from '../../src/audio/resample.ts';
import { createRng } from '../../src/audio/rng.ts';
import { cvClip, librispeechClip } from '../fixtures/paths.ts';

let aug: Augmenter;
let resampler: Resampler;
let speech: Float32Array; // LibriSpeech 2033-164914-0000, male, 16 kHz
let cv: Float32Array; // Common Voice clip, 32 kHz
let speechF0: number;

beforeAll(async () => {
  resampler = await createResampler();
  aug = await createAugmenter({ resampler });
  const decoder = await createAudioDecoder();
  speech = (await decoder.decode(readFileSync(librispeechClip('2033-164914-0000')))).samples;
  cv = (await decoder.decode(readFileSync(cvClip('common_voice_fa_36530313.mp3')))).samples;
  await decoder.close();
  speechF0 = medianF0(speech, 16000);
});
afterAll(() => {
  aug.close();
  resampler.close();
});

/** Index one past the last non-zero sample: the audible length. */
const audibleLength = (x: Float32Array) => {
  let i = x.length;
  while (i > 0 && x[i - 1] === 0) i--;
  return i;
};

describe('pitchShift (Sonic)', () => {
  test.each([2, -3])('%i semitones moves the median F0 by 2^(st/12) ± 3 %% and keeps the duration', (st) => {
    expect(speechF0).toBeGreaterThan(100);
    const y = aug.pitchShift(speech, 16000, st);
    const ratio = medianF0(y, 16000) / speechF0;
    expect(Math.abs(ratio / 2 ** (st / 12) - 1)).toBeLessThan(0.03);
    expect(y.length).toBe(speech.length);
    expect(audibleLength(y) / speech.length).toBeGreaterThan(0.99);
  });

  test('at the source rate (32 kHz Common Voice) before downsampling, as extractClip does', () => {
    const before = medianF0(resampler.resample(cv, 32000, 16000), 16000);
    const after = medianF0(resampler.resample(aug.pitchShift(cv, 32000, 2), 32000, 16000), 16000);
    expect(Math.abs(after / before / 2 ** (2 / 12) - 1)).toBeLessThan(0.03);
  });

  test('quiet input keeps its resolution (Sonic is int16 inside; the gain staging undoes that)', () => {
    const loud = aug.pitchShift(speech, 16000, 2);
    const quiet = aug.pitchShift(Float32Array.from(speech, (v) => v * 1e-3), 16000, 2);
    let err = 0;
    let ref = 0;
    for (let i = 0; i < loud.length; i++) {
      err += (quiet[i]! * 1e3 - loud[i]!) ** 2;
      ref += loud[i]! ** 2;
    }
    expect(Math.sqrt(err / ref)).toBeLessThan(1e-3);
  });

  test('0 semitones is the identity; results are deterministic', () => {
    expect(aug.pitchShift(speech, 16000, 0)).toBe(speech);
    const a = aug.pitchShift(speech, 16000, -1.5);
    const b = aug.pitchShift(speech, 16000, -1.5);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });
});

describe('changeSpeed (resample sr·f → sr)', () => {
  test('1.1 shortens by 1/1.1 (± 1 %) and raises F0 by 1.1 (± 3 %)', () => {
    const y = aug.changeSpeed(speech, 16000, 1.1);
    expect(Math.abs(y.length / (speech.length / 1.1) - 1)).toBeLessThan(0.01);
    expect(Math.abs(medianF0(y, 16000) / speechF0 / 1.1 - 1)).toBeLessThan(0.03);
  });

  test('0.9 lengthens by 1/0.9', () => {
    const y = aug.changeSpeed(speech, 16000, 0.9);
    expect(Math.abs(y.length / (speech.length / 0.9) - 1)).toBeLessThan(0.01);
  });
});

describe('addNoise', () => {
  const snr = (clean: Float32Array, noisy: Float32Array) => {
    let s = 0;
    let n = 0;
    for (let i = 0; i < clean.length; i++) {
      s += clean[i]! ** 2;
      n += (noisy[i]! - clean[i]!) ** 2;
    }
    return 10 * Math.log10(s / n);
  };

  test.each([20, 5, 40])('white noise at %i dB SNR measures within ± 0.5 dB', (db) => {
    const y = addNoise(speech, db, createRng(9));
    expect(Math.abs(snr(speech, y) - db)).toBeLessThan(0.5);
  });

  test('same rng seed, same noise; different seed, different noise; input untouched', () => {
    const copy = speech.slice();
    const a = addNoise(speech, 20, createRng(1));
    const b = addNoise(speech, 20, createRng(1));
    const c = addNoise(speech, 20, createRng(2));
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
    expect(Buffer.from(speech.buffer).equals(Buffer.from(copy.buffer))).toBe(true);
  });

  test('noise is white: successive samples are uncorrelated', () => {
    const n = addNoise(speech, 10, createRng(5)).map((v, i) => v - speech[i]!);
    // For white noise E[(n_i − n_{i−1})²] = 2·E[n²]; low-passed noise would give less, high-passed more.
    let p = 0;
    let d = 0;
    for (let i = 1; i < n.length; i++) {
      p += n[i]! ** 2;
      d += (n[i]! - n[i - 1]!) ** 2;
    }
    expect(d / p).toBeGreaterThan(1.98);
    expect(d / p).toBeLessThan(2.02);
  });
});
