import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AudioDecodeError } from '../../src/audio/decode.ts';
import { ClipError, createClipTools, extractClip, type ClipTools } from '../../src/features/extractClip.ts';
import { createFeatureExtractor, DEFAULT_FEATURE_PARAMS } from '../../src/features/mfcc.ts';
import { writeWav } from '../audio/wavWriter.ts';
import { cvClip, librispeechClip } from '../fixtures/paths.ts';
import { BASE_PARAMS, sameBits } from './clipParams.ts';

let tools: ClipTools;
beforeAll(async () => {
  tools = await createClipTools();
});
afterAll(async () => {
  await tools.close();
});

const mp3 = readFileSync(cvClip('common_voice_fa_36530313.mp3'));

describe('extractClip', () => {
  test('a Common Voice MP3: 32 kHz source → 16 kHz MFCCs, equal to running the stages by hand', async () => {
    const out = await extractClip(mp3, BASE_PARAMS, tools);
    expect(out.sourceRate).toBe(32000);
    expect(out.analysedSamples).toBe(Math.ceil(out.sourceSamples / 2));
    expect([out.frames, out.coeffs]).toEqual([300, 40]);
    const ex = createFeatureExtractor(DEFAULT_FEATURE_PARAMS);
    expect(out.validFrames).toBe(Math.min(300, ex.frameCount(out.analysedSamples)));

    const decoded = await tools.decoder.decode(mp3);
    const y = (await tools.resampler(8)).resample(decoded.samples, 32000, 16000);
    const manual = ex.extract(y);
    expect(sameBits(out.data.subarray(0, out.validFrames * 40), manual.data.subarray(0, out.validFrames * 40))).toBe(true);
    expect(out.data.subarray(out.validFrames * 40).every((v) => v === 0)).toBe(true);
  });

  test('deterministic: the same bytes and params give the same bits', async () => {
    const params = { ...BASE_PARAMS, augment: { semitones: 1.3, speed: 0.93, snrDb: 25, seed: 77 } };
    const a = await extractClip(mp3, params, tools);
    await extractClip(readFileSync(librispeechClip('2033-164914-0000')), BASE_PARAMS, tools); // something in between
    const b = await extractClip(mp3, params, tools);
    expect(sameBits(a.data, b.data)).toBe(true);
  });

  test('each augmentation changes the features; the noise seed matters only when noise is on', async () => {
    const plain = await extractClip(mp3, BASE_PARAMS, tools);
    const variants = [
      { semitones: 2, seed: 1 },
      { speed: 1.1, seed: 1 },
      { snrDb: 20, seed: 1 },
    ];
    for (const augment of variants) {
      const out = await extractClip(mp3, { ...BASE_PARAMS, augment }, tools);
      expect(sameBits(out.data, plain.data), JSON.stringify(augment)).toBe(false);
    }
    const seedOnly = await extractClip(mp3, { ...BASE_PARAMS, augment: { seed: 5 } }, tools);
    expect(sameBits(seedOnly.data, plain.data)).toBe(true);
    const n1 = await extractClip(mp3, { ...BASE_PARAMS, augment: { snrDb: 20, seed: 1 } }, tools);
    const n2 = await extractClip(mp3, { ...BASE_PARAMS, augment: { snrDb: 20, seed: 2 } }, tools);
    expect(sameBits(n1.data, n2.data)).toBe(false);
  });

  test('speed perturbation is folded into the one resampling step: length n·16000/round(32000·f)', async () => {
    const out = await extractClip(mp3, { ...BASE_PARAMS, augment: { speed: 1.1, seed: 0 } }, tools);
    expect(out.analysedSamples).toBe(Math.ceil((out.sourceSamples * 16000) / 35200));
  });

  test('trim shortens the analysed audio; frames are padded to the fixed count', async () => {
    const long = { ...BASE_PARAMS, frames: 1000 }; // the clip has ~500 frames: all valid, then padding
    const plain = await extractClip(mp3, long, tools);
    const trimmed = await extractClip(mp3, { ...long, trim: { enabled: true, topDb: 30 } }, tools);
    expect(trimmed.analysedSamples).toBeLessThan(plain.analysedSamples);
    expect(plain.validFrames).toBeLessThan(1000);
    expect(trimmed.validFrames).toBeLessThan(plain.validFrames);
    expect(trimmed.frames).toBe(1000);
  });

  test('log-mel kind and truncation to fewer frames', async () => {
    const out = await extractClip(mp3, { ...BASE_PARAMS, kind: 'logmel', nMels: 64, frames: 100 }, tools);
    expect([out.frames, out.coeffs, out.validFrames]).toEqual([100, 64, 100]);
  });

  test('errors: undecodable bytes, a clip shorter than one window, mismatched rates', async () => {
    await expect(extractClip(new Uint8Array(100), BASE_PARAMS, tools)).rejects.toBeInstanceOf(AudioDecodeError);
    const tiny = writeWav({ sampleRate: 16000, channels: [new Float32Array(300).fill(0.1)], encoding: 'float32' });
    await expect(extractClip(tiny, BASE_PARAMS, tools)).rejects.toBeInstanceOf(ClipError);
    await expect(extractClip(tiny, BASE_PARAMS, tools)).rejects.toThrow(/300 samples at 16000 Hz.*needs 400/);
    await expect(extractClip(mp3, { ...BASE_PARAMS, targetRate: 8000 }, tools)).rejects.toThrow(/targetRate \(8000\) must equal/);
  });
});
