import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createAudioDecoder } from '../../src/audio/decode.ts';
import { createResampler, type Resampler } from '../../src/audio/resample.ts';
import { cvClip } from '../fixtures/paths.ts';

const tone = (freq: number, rate: number, n: number, amp = 0.5) =>
  Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * freq * i) / rate));

/** RMS of the middle half (away from the clip edges), relative to a sine of amplitude `amp`, in dB. */
function levelDb(x: Float32Array, amp = 0.5): number {
  const a = Math.floor(x.length / 4);
  const b = Math.floor((3 * x.length) / 4);
  let s = 0;
  for (let i = a; i < b; i++) s += x[i]! * x[i]!;
  return 20 * Math.log10(Math.sqrt(s / (b - a)) / (amp / Math.SQRT2));
}

let r: Resampler;
beforeAll(async () => {
  r = await createResampler(); // quality 8
});
afterAll(() => r.close());

describe('tone response, 32 kHz → 16 kHz (quality 8)', () => {
  test('7.5 kHz (in band) keeps its amplitude within 0.5 dB', () => {
    const y = r.resample(tone(7500, 32000, 64000), 32000, 16000);
    expect(Math.abs(levelDb(y))).toBeLessThan(0.5);
  });

  test('9 kHz (above the new Nyquist) is suppressed: its 7 kHz alias is below −60 dB', () => {
    const y = r.resample(tone(9000, 32000, 64000), 32000, 16000);
    expect(levelDb(y)).toBeLessThan(-60);
  });

  test('48 kHz and 44.1 kHz inputs: 1 kHz passes at full level, 10 kHz is removed', () => {
    for (const rate of [48000, 44100]) {
      expect(Math.abs(levelDb(r.resample(tone(1000, rate, rate), rate, 16000)))).toBeLessThan(0.1);
      expect(levelDb(r.resample(tone(10000, rate, rate), rate, 16000))).toBeLessThan(-60);
    }
  });

  test('output is time-aligned: an impulse at input sample 1000 peaks at output sample 500', () => {
    const x = new Float32Array(4000);
    x[1000] = 1;
    const y = r.resample(x, 32000, 16000);
    let peak = 0;
    for (let i = 0; i < y.length; i++) if (Math.abs(y[i]!) > Math.abs(y[peak]!)) peak = i;
    expect(peak).toBe(500);
  });
});

describe('lengths and state', () => {
  test.each([
    [32000, 16000],
    [48000, 16000],
    [44100, 16000],
    [16000, 32000],
    [35200, 16000],
    [29091, 32000],
  ])('%i → %i: ceil(n·to/from) samples for any n', (from, to) => {
    for (const n of [1, 2, 3, 159, 1000, 12345, 100003]) {
      const y = r.resample(tone(440, from, n), from, to);
      expect(y.length).toBe(Math.ceil((n * to) / from));
      expect(Math.abs(y.length - Math.round((n * to) / from))).toBeLessThanOrEqual(1);
    }
  });

  test('equal rates return the input unchanged; empty input gives empty output', () => {
    const x = tone(440, 16000, 100);
    expect(r.resample(x, 16000, 16000)).toBe(x);
    expect(r.resample(new Float32Array(0), 32000, 16000).length).toBe(0);
  });

  test('no state leaks between clips: a clip resamples identically before and after others', async () => {
    const decoder = await createAudioDecoder();
    const clip = (await decoder.decode(readFileSync(cvClip('common_voice_fa_36530313.mp3')))).samples;
    await decoder.close();
    const first = r.resample(clip, 32000, 16000);
    r.resample(tone(3000, 32000, 50000, 0.9), 32000, 16000);
    r.resample(tone(3000, 48000, 50000, 0.9), 48000, 16000);
    const again = r.resample(clip, 32000, 16000);
    expect(Buffer.from(again.buffer).equals(Buffer.from(first.buffer))).toBe(true);
  });

  test('more source rates than the converter cache holds', () => {
    const x = tone(500, 32000, 3200);
    const ref = r.resample(x, 32000, 16000);
    for (let k = 0; k < 12; k++) r.resample(x, 30000 + 100 * k, 16000);
    expect(Array.from(r.resample(x, 32000, 16000))).toEqual(Array.from(ref));
  });

  test('rejects non-integer rates and bad qualities', async () => {
    expect(() => r.resample(new Float32Array(10), 32000.5, 16000)).toThrow(/positive integer/);
    expect(() => r.resample(new Float32Array(10), 32000, 0)).toThrow(/positive integer/);
    await expect(createResampler(11)).rejects.toThrow(/0\.\.10/);
  });
});
