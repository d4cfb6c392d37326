/**
 * Regenerates tests/fixtures/audio/mfcc-reference.json:
 *   npx tsx tests/features/make-mfcc-reference.ts
 *
 * For each clip: decode and resample to 16 kHz with xp's own pipeline, cut a segment of 20 frames
 * starting at 1 s, and let the numpy anchor (via mfcc_reference.py) compute MFCC and log-mel on
 * exactly those samples. The segment is stored with the reference values, so the test can check
 * decode + resample (against the stored samples) and the features (against numpy) separately.
 * Python: $XP_PYTHON, else the first of /usr/bin/python3, python3 that has numpy.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createAudioDecoder } from '../../src/audio/decode.ts';
import { createResampler } from '../../src/audio/resample.ts';
import { DEFAULT_FEATURE_PARAMS } from '../../src/features/mfcc.ts';
import { repoRoot, SHARED_DATA } from '../fixtures/paths.ts';

const CLIPS = ['cv-fa-sample/clips/common_voice_fa_36530313.mp3', 'librispeech-test-other/2033/2033-164914-0000.flac'];
const OFFSET = 16000; // 1 s into the clip at 16 kHz: frame 100, past the leading silence
const FRAMES = 20;
const RESAMPLE_QUALITY = 8;
const anchors = process.env.XP_ANCHORS ?? path.resolve(repoRoot, '../shared/anchors');
const anchorScript = path.join(anchors, 'features_bench.py');

function findPython(): string {
  const candidates = [process.env.XP_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  for (const py of candidates) {
    try {
      execFileSync(py, ['-c', 'import numpy'], { stdio: 'ignore' });
      return py;
    } catch {
      // try the next one
    }
  }
  throw new Error(`no Python with numpy among: ${candidates.join(', ')}`);
}

const p = DEFAULT_FEATURE_PARAMS;
const win = Math.round((p.sampleRate * p.windowMs) / 1000);
const hop = Math.round((p.sampleRate * p.hopMs) / 1000);
const segmentLength = win + (FRAMES - 1) * hop;

const decoder = await createAudioDecoder();
const resampler = await createResampler(RESAMPLE_QUALITY);
const tmp = mkdtempSync(path.join(tmpdir(), 'xp-mfcc-ref-'));
try {
  const segments: { clip: string; sha256: string; sourceRate: number; segment: Float32Array }[] = [];
  for (const [i, clip] of CLIPS.entries()) {
    const bytes = readFileSync(path.join(SHARED_DATA, clip));
    const decoded = await decoder.decode(bytes);
    const y = resampler.resample(decoded.samples, decoded.sampleRate, p.sampleRate);
    const segment = y.slice(OFFSET, OFFSET + segmentLength);
    if (segment.length !== segmentLength) throw new Error(`${clip} is too short`);
    writeFileSync(path.join(tmp, `${i}.f32`), segment);
    segments.push({ clip, sha256: createHash('sha256').update(bytes).digest('hex'), sourceRate: decoded.sampleRate, segment });
  }
  const python = findPython();
  const stdout = execFileSync(
    python,
    [path.join(repoRoot, 'tests/features/mfcc_reference.py'), anchorScript, ...segments.map((_, i) => path.join(tmp, `${i}.f32`))],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  const ref = JSON.parse(stdout) as { numpy: string; segments: { mfcc: number[][]; logmel: number[][] }[] };
  const round = (rows: number[][]): number[][] => rows.map((r) => r.map((v) => Number(v.toPrecision(8))));
  const fixture = {
    about:
      'MFCC/log-mel reference from shared/anchors/features_bench.py (numpy). Regenerate: npx tsx tests/features/make-mfcc-reference.ts',
    anchorSha256: createHash('sha256').update(readFileSync(anchorScript)).digest('hex'),
    numpy: ref.numpy,
    params: { ...p, resampleQuality: RESAMPLE_QUALITY, offsetSamples: OFFSET, frames: FRAMES },
    clips: segments.map((s, i) => ({
      clip: s.clip,
      sha256: s.sha256,
      sourceRate: s.sourceRate,
      // float32 little-endian, base64: the exact samples numpy saw
      segmentF32Base64: Buffer.from(s.segment.buffer, s.segment.byteOffset, s.segment.byteLength).toString('base64'),
      mfcc: round(ref.segments[i]!.mfcc),
      logmel: round(ref.segments[i]!.logmel),
    })),
  };
  const out = path.join(repoRoot, 'tests/fixtures/audio/mfcc-reference.json');
  writeFileSync(out, JSON.stringify(fixture) + '\n');
  console.log(`wrote ${out} (numpy ${ref.numpy}, python ${python})`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
  await decoder.close();
  resampler.close();
}
