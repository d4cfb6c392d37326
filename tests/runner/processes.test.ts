import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StampedEvent } from '../../src/runner/events.ts';
import { openProject } from '../../src/runner/project.ts';
import { REPO_ROOT, useTempDirs } from '../fixtures/tempProject.ts';
import type { ToySpec } from '../fixtures/toyPipeline.ts';

const tempDir = useTempDirs();

function setUp(toy: Partial<ToySpec['toy']>) {
  const root = tempDir();
  writeFileSync(path.join(root, 'numbers.txt'), '1 2 3\n');
  const spec: ToySpec = { name: 'toy', seed: 7, toy: { input: 'numbers.txt', factor: 2, label: 'a', ...toy } };
  const specFile = path.join(root, 'toy.json');
  writeFileSync(specFile, JSON.stringify(spec));
  return { root, specFile };
}

function startRun(root: string, specFile: string): { child: ChildProcess; done: Promise<number> } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'tests/fixtures/runToy.ts'), root, specFile], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<number>((resolve) =>
    child.on('exit', (code, signal) => {
      if (code !== 0 && signal !== 'SIGKILL') console.error(stderr);
      resolve(code ?? -1);
    }),
  );
  return { child, done };
}

function eventsOfAllRuns(root: string): StampedEvent[][] {
  const runsDir = path.join(root, 'runs');
  return readdirSync(runsDir).map((id) =>
    readFileSync(path.join(runsDir, id, 'events.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StampedEvent),
  );
}

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('runs in separate processes', () => {
  it('two runs of one spec started together compute each stage exactly once', async () => {
    const { root, specFile } = setUp({ sleep_ms: 1_500 });
    const a = startRun(root, specFile);
    const b = startRun(root, specFile);
    expect(await Promise.all([a.done, b.done])).toEqual([0, 0]);

    const runs = eventsOfAllRuns(root);
    expect(runs).toHaveLength(2);
    for (const stage of ['source', 'scale', 'report']) {
      const statuses = runs.map((events) =>
        events.filter((e) => e.type === 'stage-status' && e.stage === stage && (e.status === 'done' || e.status === 'cached')).map((e) => (e as { status: string }).status),
      );
      // Exactly one process computed it; the other reused its cache entry.
      expect(statuses.flat().sort()).toEqual(['cached', 'done']);
    }
  });

  it('kill -9 in the middle of a stage leaves no cache entry for it, and a re-run completes', async () => {
    const { root, specFile } = setUp({ sleep_ms: 30_000 });
    const victim = startRun(root, specFile);
    // Wait until the stage has written part of its artifact (into its temp directory).
    const tmp = path.join(root, '.xp', 'tmp');
    await waitFor(() => existsSync(tmp) && readdirSync(tmp).some((d) => existsSync(path.join(tmp, d, 'partial.txt'))));
    victim.child.kill('SIGKILL');
    await victim.done;

    const cache = openProject(root).cache;
    const kinds = cache.keys().map((key) => cache.get(key)!.meta.kind);
    expect(kinds).toEqual(['source']);
    // The half-built artifact and the dead process's lock are still on disk ...
    expect(readdirSync(cache.tempDir).length).toBe(1);
    expect(readdirSync(cache.locksDir).filter((f) => f.endsWith('.lock'))).toHaveLength(1);

    // ... and neither stops the next run, which takes over the stale lock.
    const fast = JSON.parse(readFileSync(specFile, 'utf8')) as ToySpec;
    fast.toy.sleep_ms = 0;
    writeFileSync(specFile, JSON.stringify(fast));
    const rerun = startRun(root, specFile);
    expect(await rerun.done).toBe(0);
    const latest = openProject(root).runs.resolve('latest');
    expect(Object.fromEntries(Object.entries(latest.stages).map(([id, s]) => [id, s.status]))).toEqual({
      source: 'cached',
      scale: 'done',
      report: 'done',
    });
    expect(latest.metrics['report.sum']).toBe(12);
    // The killed run's record stays readable, shows how far it got, and is known to be dead.
    const killed = openProject(root).runs.list()[0];
    expect(killed.status).toBe('interrupted');
    expect(killed.stages.scale.status).toBe('running');
  });
});
