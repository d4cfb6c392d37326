import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createClipTools, extractClip, type ClipFeatures, type ClipParams } from '../../src/features/extractClip.ts';
import { FeaturePool, extractFeatures, type FeatureJob, type FeatureResult } from '../../src/features/pool.ts';
import { CV_CLIPS, librispeechClip } from '../fixtures/paths.ts';
import { BASE_PARAMS, sameBits } from './clipParams.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'xp-pool-test-'));
const garbage = path.join(tmp, 'garbage.mp3');
const missing = path.join(tmp, 'does-not-exist.mp3');
const cvFiles = readdirSync(CV_CLIPS).filter((f) => f.endsWith('.mp3')).sort();

// Six real clips, one FLAC, one undecodable file, one missing file; some clips augmented.
const params = (i: number): ClipParams =>
  i % 3 === 1 ? { ...BASE_PARAMS, augment: { semitones: -1, speed: 1.05, snrDb: 30, seed: 1000 + i } } : BASE_PARAMS;
const paths = [...cvFiles.slice(0, 3).map((f) => path.join(CV_CLIPS, f)), garbage, librispeechClip('2033-164914-0000'), missing, ...cvFiles.slice(3, 6).map((f) => path.join(CV_CLIPS, f))];
const jobs: FeatureJob[] = paths.map((p, i) => ({ index: 100 + i, path: p, params: params(i) }));

let direct: (ClipFeatures | undefined)[];
beforeAll(async () => {
  writeFileSync(garbage, Buffer.from('this is not audio at all, just text pretending to be an mp3 file'.repeat(20)));
  const tools = await createClipTools();
  direct = [];
  for (const job of jobs) {
    try {
      direct.push(await extractClip(readFileSync(job.path), job.params, tools));
    } catch {
      direct.push(undefined);
    }
  }
  await tools.close();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function collect(iterable: AsyncIterable<FeatureResult>): Promise<FeatureResult[]> {
  const out: FeatureResult[] = [];
  for await (const r of iterable) out.push(r);
  return out;
}

function expectMatchesDirect(results: FeatureResult[]): void {
  expect(results.map((r) => r.index)).toEqual(jobs.map((j) => j.index));
  results.forEach((r, i) => {
    const want = direct[i];
    if (!want) {
      expect(r.ok, jobs[i]!.path).toBe(false);
      return;
    }
    expect(r.ok, jobs[i]!.path).toBe(true);
    if (!r.ok) return;
    expect(sameBits(r.features.data, want.data), jobs[i]!.path).toBe(true);
    expect(r.features.validFrames).toBe(want.validFrames);
    expect(r.features.sourceRate).toBe(want.sourceRate);
  });
}

describe('FeaturePool', () => {
  test.each([1, 2])('%i worker(s): results equal direct extractClip calls, in input order', async (workers) => {
    const progress: number[] = [];
    const results = await collect(
      extractFeatures(jobs, { workers, onProgress: (p) => progress.push(p.done) }),
    );
    expectMatchesDirect(results);
    expect(progress).toEqual(jobs.map((_, i) => i + 1));
  });

  test('bad clips come back as error values and the others complete', async () => {
    const results = await collect(extractFeatures(jobs, { workers: 2 }));
    const failures = results.filter((r) => !r.ok);
    expect(failures.map((r) => r.index)).toEqual([103, 105]);
    const [bad, gone] = failures as Extract<FeatureResult, { ok: false }>[];
    expect(bad!.error.name).toBe('AudioDecodeError');
    expect(bad!.error.message).toMatch(/not an MP3\/FLAC\/WAV file/);
    expect(gone!.error.code).toBe('ENOENT');
    expect(results.filter((r) => r.ok)).toHaveLength(jobs.length - 2);
  });

  test('a lazy job source is pulled at most maxInFlight ahead of what was yielded', async () => {
    let pulled = 0;
    let yielded = 0;
    let maxAhead = 0;
    async function* source(): AsyncGenerator<FeatureJob> {
      for (let i = 0; i < 12; i++) {
        pulled++;
        maxAhead = Math.max(maxAhead, pulled - yielded);
        yield { index: i, path: path.join(CV_CLIPS, cvFiles[i]!), params: BASE_PARAMS };
      }
    }
    const pool = new FeaturePool({ workers: 2, maxInFlight: 3 });
    try {
      for await (const r of pool.run(source())) {
        expect(r.index).toBe(yielded);
        yielded++;
      }
    } finally {
      await pool.close();
    }
    expect(yielded).toBe(12);
    expect(maxAhead).toBeLessThanOrEqual(3);
  });

  test('abort stops the run promptly; the pool can run again afterwards', async () => {
    const many: FeatureJob[] = cvFiles.slice(0, 60).map((f, i) => ({ index: i, path: path.join(CV_CLIPS, f), params: BASE_PARAMS }));
    const pool = new FeaturePool({ workers: 2 });
    const controller = new AbortController();
    let seen = 0;
    let abortedAt = 0;
    const error = await (async () => {
      try {
        for await (const r of pool.run(many, { signal: controller.signal })) {
          expect(r.ok).toBe(true);
          seen++;
          if (seen === 2) {
            abortedAt = performance.now();
            controller.abort();
          }
        }
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    const stoppedAfterMs = performance.now() - abortedAt;
    expect((error as Error | undefined)?.name).toBe('AbortError');
    expect(seen).toBe(2);
    expect(stoppedAfterMs).toBeLessThan(1000);
    expect(pool.liveWorkers).toBe(0); // terminated, not left running the remaining 58 clips
    // A fresh run (new workers) still works and is still correct.
    const again = await collect(pool.run(jobs.slice(0, 3)));
    expect(again.map((r) => r.index)).toEqual([100, 101, 102]);
    again.forEach((r, i) => expect(r.ok && sameBits(r.features.data, direct[i]!.data)).toBe(true));
    await pool.close();
  });

  test('workers start on demand: none for an empty job list, one for a single job', async () => {
    const pool = new FeaturePool({ workers: 2 });
    expect(await collect(pool.run([]))).toEqual([]);
    expect(pool.liveWorkers).toBe(0);
    const one = await collect(pool.run(jobs.slice(0, 1)));
    expect(one).toHaveLength(1);
    expect(pool.liveWorkers).toBe(1);
    await pool.close();
    expect(pool.liveWorkers).toBe(0);
  });

  test('a worker that dies on a clip yields a WorkerCrash value for that clip and is replaced', async () => {
    const crashJobs: FeatureJob[] = [
      jobs[0]!,
      { index: 1, path: path.join(tmp, 'CRASH.mp3'), params: BASE_PARAMS },
      jobs[1]!,
      jobs[2]!,
    ];
    const results = await collect(
      extractFeatures(crashJobs, { workers: 1, workerEntry: new URL('./crashingWorkerEntry.mjs', import.meta.url) }),
    );
    expect(results.map((r) => [r.index, r.ok])).toEqual([
      [100, true],
      [1, false],
      [101, true],
      [102, true],
    ]);
    const crash = results[1] as Extract<FeatureResult, { ok: false }>;
    expect(crash.error.name).toBe('WorkerCrash');
    expect(crash.error.message).toMatch(/exited with code 3 while processing .*CRASH\.mp3/);
    expect(results[2]!.ok && sameBits(results[2]!.features.data, direct[1]!.data)).toBe(true);
  });

  test('a worker that cannot start fails the whole run instead of failing every clip', async () => {
    const run = collect(extractFeatures(jobs, { workers: 2, workerEntry: new URL('./brokenWorkerEntry.mjs', import.meta.url) }));
    await expect(run).rejects.toThrow(/feature worker failed to start \(exit code 1\): cannot load the feature pipeline/);
  });

  test('closing the pool during a run ends the run with an error instead of hanging', async () => {
    const pool = new FeaturePool({ workers: 2 });
    const seen: number[] = [];
    const run = (async () => {
      for await (const r of pool.run(jobs)) {
        seen.push(r.index);
        if (seen.length === 1) void pool.close();
      }
    })();
    await expect(run).rejects.toThrow(/closed during a run/);
    expect(seen).toEqual([100]);
    expect(pool.liveWorkers).toBe(0);
  });

  test('an already-aborted signal never starts', async () => {
    const pool = new FeaturePool({ workers: 1 });
    const controller = new AbortController();
    controller.abort();
    await expect(collect(pool.run(jobs, { signal: controller.signal }))).rejects.toMatchObject({ name: 'AbortError' });
    await pool.close();
  });

  test('breaking out early leaves the pool usable for the next run', async () => {
    const pool = new FeaturePool({ workers: 2 });
    for await (const r of pool.run(jobs)) {
      expect(r.index).toBe(100);
      break;
    }
    const results = await collect(pool.run(jobs));
    expectMatchesDirect(results);
    await pool.close();
  });
});
