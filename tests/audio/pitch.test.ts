import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createAudioDecoder, type AudioDecoder } from '../../src/audio/decode.ts';
import { medianF0, yin } from '../../src/audio/pitch.ts';
import { createRng } from '../../src/audio/rng.ts';
import { librispeechClip } from '../fixtures/paths.ts';
import { speakerSex } from './speakers.ts';

const tone = (freq: number, rate: number, seconds: number) =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => 0.5 * Math.sin((2 * Math.PI * freq * i) / rate));

describe('YIN on synthetic signals', () => {
  test.each([
    [120, 16000],
    [220, 16000],
    [120, 32000],
    [220, 44100],
  ])('a pure %i Hz tone at %i Hz is found within 1 %% in every frame', (freq, rate) => {
    const track = yin(tone(freq, rate, 1), rate);
    expect(track.f0.length).toBeGreaterThan(80);
    expect(Array.from(track.voiced).every((v) => v === 1)).toBe(true);
    for (const f of track.f0) expect(Math.abs(f / freq - 1)).toBeLessThan(0.01);
    expect(Math.abs(medianF0(tone(freq, rate, 1), rate) / freq - 1)).toBeLessThan(0.01);
  });

  test('a harmonic-rich 150 Hz pulse train is not mistaken for its harmonics', () => {
    const rate = 16000;
    const x = Float32Array.from({ length: rate }, (_, i) => {
      let s = 0;
      for (let h = 1; h <= 10; h++) s += Math.sin((2 * Math.PI * 150 * h * i) / rate) / h;
      return 0.2 * s;
    });
    expect(Math.abs(medianF0(x, rate) / 150 - 1)).toBeLessThan(0.01);
  });

  test('silence and white noise are unvoiced', () => {
    expect(Number.isNaN(medianF0(new Float32Array(16000), 16000))).toBe(true);
    const rng = createRng(3);
    const noise = Float32Array.from({ length: 16000 }, () => 0.1 * rng.normal());
    const track = yin(noise, 16000);
    const voiced = track.voiced.reduce((a, b) => a + b, 0);
    expect(voiced / track.voiced.length).toBeLessThan(0.05);
  });

  test('frame layout: 10 ms hop, times at frame centres', () => {
    const track = yin(tone(200, 16000, 1), 16000);
    expect(track.hopLength).toBe(160);
    expect(track.times[1]! - track.times[0]!).toBeCloseTo(0.01, 6);
  });
});

describe('YIN on real LibriSpeech speakers', () => {
  let decoder: AudioDecoder;
  beforeAll(async () => {
    decoder = await createAudioDecoder();
  });
  afterAll(async () => {
    await decoder.close();
  });
  const median = async (id: string) => {
    const { samples, sampleRate } = await decoder.decode(readFileSync(librispeechClip(id)));
    return medianF0(samples, sampleRate);
  };

  // Two male and two female test-other speakers, two utterances each.
  const clips = ['2609-156975-0000', '2609-156975-0002', '3005-163389-0002', '3005-163389-0000', '1998-15444-0001', '1998-15444-0002', '533-1066-0000', '533-1066-0002'];

  test("male speakers' medians fall below 165 Hz and female speakers' above it", async () => {
    for (const id of clips) {
      const f0 = await median(id);
      const sex = speakerSex(id.split('-')[0]!);
      if (sex === 'M') {
        expect(f0, id).toBeGreaterThan(70);
        expect(f0, id).toBeLessThan(165);
      } else {
        expect(f0, id).toBeGreaterThan(165);
        expect(f0, id).toBeLessThan(300);
      }
    }
    expect(new Set(clips.map((id) => speakerSex(id.split('-')[0]!)))).toEqual(new Set(['M', 'F']));
  });
});
