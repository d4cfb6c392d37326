import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { createAudioDecoder } from '../../src/audio/decode.ts';
import { trimSilence } from '../../src/audio/trim.ts';
import { createRng } from '../../src/audio/rng.ts';
import { cvClip } from '../fixtures/paths.ts';

/** 0.5 s of faint noise, 1 s of a 300 Hz tone, 0.5 s of faint noise, at 16 kHz. */
function padded(): Float32Array {
  const rng = createRng(1);
  return Float32Array.from({ length: 32000 }, (_, i) =>
    i >= 8000 && i < 24000 ? 0.5 * Math.sin((2 * Math.PI * 300 * i) / 16000) : 1e-5 * rng.normal(),
  );
}

describe('trimSilence (librosa.effects.trim rule)', () => {
  test('cuts leading and trailing silence to within one frame of the tone', () => {
    const { start, end, samples } = trimSilence(padded(), { topDb: 60 });
    // Frames are centred (2048 long, hop 512): the first non-silent frame is the first whose
    // window reaches the tone, so the cut lands up to frameLength/2 + hop before it.
    expect(start).toBeGreaterThanOrEqual(8000 - 1024 - 512);
    expect(start).toBeLessThanOrEqual(8000);
    expect(end).toBeGreaterThanOrEqual(24000);
    expect(end).toBeLessThanOrEqual(24000 + 1024 + 512);
    expect(samples.length).toBe(end - start);
    // librosa: start = first frame · hop, end = (last frame + 1) · hop
    expect(start % 512).toBe(0);
    expect(end % 512).toBe(0);
  });

  test('is relative to the loudest frame, so independent of gain (above the −100 dB power floor)', () => {
    const x = padded();
    const quiet = Float32Array.from(x, (v) => v * 0.1);
    const a = trimSilence(x, { topDb: 60 });
    const b = trimSilence(quiet, { topDb: 60 });
    expect([b.start, b.end]).toEqual([a.start, a.end]);
  });

  test('a higher topDb keeps more (faint noise counts as sound once within range)', () => {
    const x = padded();
    const loose = trimSilence(x, { topDb: 120 });
    expect([loose.start, loose.end]).toEqual([0, x.length]);
  });

  test('digital silence and empty input are kept as they are', () => {
    expect(trimSilence(new Float32Array(5000))).toMatchObject({ start: 0, end: 5000 });
    expect(trimSilence(new Float32Array(0))).toMatchObject({ start: 0, end: 0 });
  });

  test('a real Common Voice clip loses some leading/trailing silence and keeps its loudest sample', async () => {
    const decoder = await createAudioDecoder();
    const { samples } = await decoder.decode(readFileSync(cvClip('common_voice_fa_36530313.mp3')));
    await decoder.close();
    const { start, end } = trimSilence(samples, { topDb: 30 });
    expect(end - start).toBeLessThan(samples.length);
    expect(end - start).toBeGreaterThan(samples.length / 4);
    let peak = 0;
    for (let i = 0; i < samples.length; i++) if (Math.abs(samples[i]!) > Math.abs(samples[peak]!)) peak = i;
    expect(peak).toBeGreaterThanOrEqual(start);
    expect(peak).toBeLessThan(end);
  });
});
