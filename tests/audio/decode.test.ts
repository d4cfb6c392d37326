import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AudioDecodeError, createAudioDecoder, sniffFormat, type AudioDecoder } from '../../src/audio/decode.ts';
import { cvClip, librispeechClip } from '../fixtures/paths.ts';
import { writeWav } from './wavWriter.ts';

/** MPEG-1 Layer III frames in the file, counted by walking the frame headers (an independent check). */
function countMp3Frames(b: Uint8Array): number {
  const kbps = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
  const rates = [44100, 48000, 32000];
  let i = 0;
  if (b[0] === 0x49 && b[1] === 0x44 && b[2] === 0x33) i = 10 + ((b[6]! << 21) | (b[7]! << 14) | (b[8]! << 7) | b[9]!);
  let frames = 0;
  while (i + 4 <= b.length) {
    expect(b[i]).toBe(0xff);
    expect(b[i + 1]! & 0xfe).toBe(0xfa); // MPEG-1, Layer III
    const len = Math.floor((144 * kbps[b[i + 2]! >> 4]! * 1000) / rates[(b[i + 2]! >> 2) & 3]!) + ((b[i + 2]! >> 1) & 1);
    i += len;
    frames++;
  }
  return frames;
}

/** Total samples declared in a FLAC file's STREAMINFO block. */
function flacTotalSamples(b: Uint8Array): number {
  // 'fLaC' (4) + block header (4) + STREAMINFO: the 36-bit count starts at bit 108 of the block.
  const s = 8 + 13;
  return (b[s]! & 0x0f) * 2 ** 32 + ((b[s + 1]! << 24) >>> 0) + (b[s + 2]! << 16) + (b[s + 3]! << 8) + b[s + 4]!;
}

let decoder: AudioDecoder;
beforeAll(async () => {
  decoder = await createAudioDecoder();
});
afterAll(async () => {
  await decoder.close();
});

describe('MP3 (real Common Voice clips)', () => {
  test.each(['common_voice_fa_36530313.mp3', 'common_voice_fa_36530315.mp3'])('%s → 32 kHz mono, frames × 1152 samples', async (name) => {
    const bytes = readFileSync(cvClip(name));
    expect(sniffFormat(bytes)).toBe('mp3');
    const out = await decoder.decode(bytes);
    expect(out.format).toBe('mp3');
    expect(out.sampleRate).toBe(32000);
    expect(out.samples.length).toBe(countMp3Frames(bytes) * 1152);
    let peak = 0;
    let energy = 0;
    for (const v of out.samples) {
      peak = Math.max(peak, Math.abs(v));
      energy += v * v;
    }
    expect(peak).toBeLessThanOrEqual(1);
    expect(Math.sqrt(energy / out.samples.length)).toBeGreaterThan(0.003); // speech, not silence
  });

  test('decoding is repeatable on one decoder, and concurrent calls are serialised', async () => {
    const a = readFileSync(cvClip('common_voice_fa_36530313.mp3'));
    const b = readFileSync(librispeechClip('2033-164914-0000'));
    const first = await decoder.decode(a);
    const [x, y, z] = await Promise.all([decoder.decode(a), decoder.decode(b), decoder.decode(a)]);
    expect(Buffer.from(x.samples.buffer).equals(Buffer.from(first.samples.buffer))).toBe(true);
    expect(Buffer.from(z.samples.buffer).equals(Buffer.from(first.samples.buffer))).toBe(true);
    expect(y.sampleRate).toBe(16000);
  });
});

describe('FLAC (real LibriSpeech clips)', () => {
  test.each(['2033-164914-0000', '1998-15444-0001'])('%s → 16 kHz mono with the STREAMINFO length', async (id) => {
    const bytes = readFileSync(librispeechClip(id));
    const out = await decoder.decode(bytes);
    expect(out.format).toBe('flac');
    expect(out.sampleRate).toBe(16000);
    expect(out.channels).toBe(1);
    expect(out.samples.length).toBe(flacTotalSamples(bytes));
  });
});

describe('WAV', () => {
  const n = 1000;
  // Values on each format's grid, so the round trip is exact.
  const grid = (step: number) => Float32Array.from({ length: n }, (_, i) => Math.round((Math.sin(i * 0.37) * 0.9) / step) * step || 0); // || 0: no -0

  test.each([
    ['pcm16', 1 / 32768],
    ['pcm24', 1 / 8388608],
    ['pcm32', 1 / 2147483648],
    ['pcm8', 1 / 128],
    ['float32', 0],
    ['float64', 0],
  ] as const)('%s mono round-trips exactly', async (encoding, step) => {
    const x = step ? grid(step) : Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * 0.37) * 0.9));
    const out = await decoder.decode(writeWav({ sampleRate: 22050, channels: [x], encoding }));
    expect(out.format).toBe('wav');
    expect(out.sampleRate).toBe(22050);
    expect(Array.from(out.samples)).toEqual(Array.from(x));
  });

  test('WAVE_FORMAT_EXTENSIBLE stereo with an odd-sized extra chunk: averaged channels', async () => {
    const l = grid(1 / 32768);
    const r = Float32Array.from(l, (v) => Math.round((-v / 2) * 32768) / 32768);
    const bytes = writeWav({ sampleRate: 48000, channels: [l, r], encoding: 'pcm16', extensible: true, extraChunk: true });
    const out = await decoder.decode(bytes);
    expect(out.channels).toBe(2);
    expect(out.samples.length).toBe(n);
    for (let i = 0; i < n; i++) expect(out.samples[i]).toBeCloseTo((l[i]! + r[i]!) / 2, 6);
  });

  test('a data chunk that claims more bytes than the file has is read up to the end', async () => {
    const bytes = writeWav({ sampleRate: 16000, channels: [grid(1 / 32768)], encoding: 'pcm16' });
    const truncated = bytes.slice(0, bytes.length - 100); // 50 samples missing, header unchanged
    const out = await decoder.decode(truncated);
    expect(out.samples.length).toBe(n - 50);
  });
});

describe('undecodable input', () => {
  const expectDecodeError = async (bytes: Uint8Array, message: RegExp) => {
    const error = await decoder.decode(bytes).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AudioDecodeError);
    expect((error as Error).message).toMatch(message);
  };

  test('garbage bytes', async () => {
    const garbage = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919 + 13) % 251);
    await expectDecodeError(garbage, /not an MP3\/FLAC\/WAV file \(5000 bytes/);
  });

  test('an empty file', async () => {
    await expectDecodeError(new Uint8Array(0), /not an MP3\/FLAC\/WAV file \(0 bytes/);
  });

  test('a WAV with a header and no samples', async () => {
    await expectDecodeError(writeWav({ sampleRate: 16000, channels: [new Float32Array(0)], encoding: 'pcm16' }), /WAV contains no samples/);
  });

  test('a FLAC header followed by garbage', async () => {
    const bytes = readFileSync(librispeechClip('2033-164914-0000')).subarray(0, 4000);
    const broken = Uint8Array.from(bytes);
    broken.fill(0, 42); // keep 'fLaC' + STREAMINFO, wipe the frames
    await expectDecodeError(broken, /FLAC decode produced no samples/);
  });

  test('the decoder still works after errors', async () => {
    const out = await decoder.decode(readFileSync(cvClip('common_voice_fa_36530313.mp3')));
    expect(out.sampleRate).toBe(32000);
  });
});
