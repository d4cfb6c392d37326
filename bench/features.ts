/**
 * Feature-pipeline benchmark: npx tsx bench/features.ts [--clips N] [--rounds R]
 *
 * 1. Stage costs on N real Common Voice MP3s, main thread, files already in memory:
 *    decode (mpg123), resample 32k → 16k (speex q8), MFCC (40 coeffs), in ms per audio second.
 * 2. MFCC against the numpy anchor (shared/anchors/features_bench.py --threads 1) on the anchor's
 *    own input shape (60 s of 0.1·N(0,1) at 16 kHz), interleaved round by round so both see the
 *    same machine load; prints the ratio xp / numpy (target ≤ 1.0).
 * 3. The whole per-clip pipeline through the worker pool at 1 and 2 workers (files read by the
 *    workers), with a check that both give bitwise-identical features.
 *
 * Anchors folder: $XP_ANCHORS, else ../shared/anchors next to the repo. Python: $XP_PYTHON, else the
 * first of /usr/bin/python3, python3 that imports numpy. Ends with one JSON line.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createAudioDecoder } from '../src/audio/decode.ts';
import { createResampler } from '../src/audio/resample.ts';
import { createRng } from '../src/audio/rng.ts';
import { createFeatureExtractor, DEFAULT_FEATURE_PARAMS } from '../src/features/mfcc.ts';
import { FeaturePool, type FeatureJob } from '../src/features/pool.ts';
import type { ClipParams } from '../src/features/extractClip.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: { clips: { type: 'string', default: '200' }, rounds: { type: 'string', default: '3' } },
});
const N_CLIPS = Number(args.clips);
const ROUNDS = Number(args.rounds);
const anchorsDir = process.env.XP_ANCHORS ?? path.resolve(repoRoot, '../shared/anchors');
const clipsDir = path.resolve(repoRoot, '../shared/data/cv-fa-sample/clips');

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (x: number, digits = 3): string => x.toFixed(digits);

function findPython(): string {
  const candidates = [process.env.XP_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  for (const py of candidates) {
    try {
      execFileSync(py, ['-c', 'import numpy'], { stdio: 'ignore' });
      return py;
    } catch {
      // next candidate
    }
  }
  throw new Error(`no Python with numpy among: ${candidates.join(', ')} (set XP_PYTHON)`);
}

interface AnchorLine {
  impl: string;
  ms_per_audio_s?: number;
  ms_total_median?: number;
  frames?: number;
  numpy?: string;
  error?: string;
}

function runAnchor(python: string): AnchorLine {
  const script = path.join(anchorsDir, 'features_bench.py');
  const stdout = execFileSync(python, [script, '--threads', '1'], { encoding: 'utf8' });
  const lines = stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as AnchorLine);
  const numpy = lines.find((l) => l.impl === 'numpy' && typeof l.ms_per_audio_s === 'number');
  if (!numpy) throw new Error(`features_bench.py printed no numpy result:\n${stdout}`);
  return numpy;
}

// ---------------------------------------------------------------------------------------------
const files = readdirSync(clipsDir)
  .filter((f) => f.endsWith('.mp3'))
  .sort()
  .slice(0, N_CLIPS);
const bytes = files.map((f) => readFileSync(path.join(clipsDir, f)));
const python = findPython();
console.log(`xp feature benchmark — ${files.length} Common Voice clips, ${ROUNDS} rounds, node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

// 1. Stage costs on real clips ------------------------------------------------------------------
const decoder = await createAudioDecoder();
const resampler = await createResampler(8);
const extractor = createFeatureExtractor(DEFAULT_FEATURE_PARAMS);

const decoded = [];
for (const b of bytes) decoded.push(await decoder.decode(b)); // warm-up and the inputs for the next stages
const audioSeconds = decoded.reduce((s, d) => s + d.samples.length / d.sampleRate, 0);
const resampled = decoded.map((d) => resampler.resample(d.samples, d.sampleRate, 16000));
for (const y of resampled) extractor.extract(y); // warm-up

const stage = { decode: [] as number[], resample: [] as number[], mfcc: [] as number[] };
for (let r = 0; r < ROUNDS; r++) {
  let t0 = performance.now();
  for (const b of bytes) await decoder.decode(b);
  stage.decode.push((performance.now() - t0) / audioSeconds);
  t0 = performance.now();
  for (const d of decoded) resampler.resample(d.samples, d.sampleRate, 16000);
  stage.resample.push((performance.now() - t0) / audioSeconds);
  t0 = performance.now();
  for (const y of resampled) extractor.extract(y);
  stage.mfcc.push((performance.now() - t0) / audioSeconds);
}
await decoder.close();
resampler.close();

// 2. MFCC vs the numpy anchor, interleaved, on the anchor's input ------------------------------
const ANCHOR_SECONDS = 60;
const rng = createRng(0);
const noise = Float32Array.from({ length: ANCHOR_SECONDS * 16000 }, () => 0.1 * rng.normal());
const xpAnchorShape: number[] = [];
const numpyRuns: AnchorLine[] = [];
extractor.extract(noise); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  numpyRuns.push(runAnchor(python));
  const times: number[] = [];
  for (let i = 0; i < 10; i++) {
    // the anchor's protocol: median of 10 timed runs
    const t0 = performance.now();
    extractor.extract(noise);
    times.push(performance.now() - t0);
  }
  xpAnchorShape.push(median(times) / ANCHOR_SECONDS);
}
const numpyMsPerS = median(numpyRuns.map((l) => l.ms_per_audio_s!));
const xpMsPerS = median(xpAnchorShape);
const ratio = xpMsPerS / numpyMsPerS;

// 3. Whole pipeline through the worker pool ----------------------------------------------------
const params: ClipParams = { ...DEFAULT_FEATURE_PARAMS, targetRate: 16000, trim: { enabled: false, topDb: 60 }, frames: 300 };
const jobs: FeatureJob[] = files.map((f, i) => ({ index: i, path: path.join(clipsDir, f), params }));
const pipeline: { workers: number; wallMs: number; msPerS: number; sha256: string; failed: number }[] = [];
for (const workers of [1, 2]) {
  const pool = new FeaturePool({ workers });
  // Start the workers (tsx + WASM load) outside the timed run.
  for await (const _ of pool.run(jobs.slice(0, workers))) void _;
  const hash = createHash('sha256');
  let failed = 0;
  const t0 = performance.now();
  for await (const r of pool.run(jobs)) {
    if (r.ok) hash.update(new Uint8Array(r.features.data.buffer, r.features.data.byteOffset, r.features.data.byteLength));
    else failed++;
  }
  const wallMs = performance.now() - t0;
  await pool.close();
  pipeline.push({ workers, wallMs, msPerS: wallMs / audioSeconds, sha256: hash.digest('hex'), failed });
}
const identical = pipeline.every((p) => p.sha256 === pipeline[0]!.sha256);

// Report -----------------------------------------------------------------------------------------
const rows: [string, string, string][] = [
  ['decode (mpg123, 32 kHz MP3)', fmt(median(stage.decode)), stage.decode.map((x) => fmt(x)).join(' ')],
  ['resample 32k→16k (speex q8)', fmt(median(stage.resample)), stage.resample.map((x) => fmt(x)).join(' ')],
  ['MFCC 40 (real clips)', fmt(median(stage.mfcc)), stage.mfcc.map((x) => fmt(x)).join(' ')],
  ['MFCC 40 (anchor input, xp)', fmt(xpMsPerS), xpAnchorShape.map((x) => fmt(x)).join(' ')],
  [`MFCC 40 (anchor input, numpy ${numpyRuns[0]!.numpy ?? '?'})`, fmt(numpyMsPerS), numpyRuns.map((l) => fmt(l.ms_per_audio_s!)).join(' ')],
  ...pipeline.map((p): [string, string, string] => [`pipeline, pool ${p.workers} worker${p.workers > 1 ? 's' : ''} (wall)`, fmt(p.msPerS), `${fmt(p.wallMs / 1000, 2)} s total`]),
];
const w0 = Math.max(...rows.map((r) => r[0].length), 5);
console.log(`\naudio: ${fmt(audioSeconds, 1)} s in ${files.length} clips (wall-clock ms per audio second, median of rounds)`);
console.log(`${'stage'.padEnd(w0)}  ${'ms/s'.padStart(7)}  per round`);
for (const [name, value, detail] of rows) console.log(`${name.padEnd(w0)}  ${value.padStart(7)}  ${detail}`);
console.log(`\nxp MFCC / numpy MFCC = ${fmt(ratio, 2)} (target ≤ 1.00) — python ${python}`);
console.log(`pool speed-up 2 vs 1 worker: ${fmt(pipeline[0]!.wallMs / pipeline[1]!.wallMs, 2)}×; features identical at 1 and 2 workers: ${identical}`);
console.log(
  JSON.stringify({
    bench: 'features',
    clips: files.length,
    audio_s: Number(audioSeconds.toFixed(2)),
    rounds: ROUNDS,
    decode_ms_per_s: Number(fmt(median(stage.decode))),
    resample_ms_per_s: Number(fmt(median(stage.resample))),
    mfcc_ms_per_s: Number(fmt(median(stage.mfcc))),
    mfcc_anchor_input_ms_per_s: Number(fmt(xpMsPerS)),
    numpy_mfcc_ms_per_s: numpyMsPerS,
    mfcc_ratio_vs_numpy: Number(fmt(ratio)),
    pipeline_ms_per_s: Object.fromEntries(pipeline.map((p) => [`workers_${p.workers}`, Number(fmt(p.msPerS))])),
    pool_identical: identical,
    failed: pipeline.map((p) => p.failed),
    numpy: numpyRuns[0]!.numpy,
    python,
    node: process.version,
    load: os.loadavg().map((l) => Number(l.toFixed(2))),
  }),
);
