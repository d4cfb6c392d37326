import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { StampedEvent } from '../../src/runner/events.ts';
import type { RunRecord } from '../../src/runner/runStore.ts';
import { REPO_ROOT, useTempDirs } from '../fixtures/tempProject.ts';
import { useXpRoot, xp } from '../fixtures/xpProject.ts';
import { finishedRun, midRun } from './events.ts';

const currentRoot = useXpRoot();
let root: string;
beforeEach(() => {
  root = currentRoot();
});


/** A run folder as `xp run` leaves it: run.json and events.ndjson. */
function writeRun(events: StampedEvent[], record: Partial<RunRecord>): string {
  const started = events[0] as Extract<StampedEvent, { type: 'run-started' }>;
  const dir = path.join(root, 'runs', started.runId);
  mkdirSync(dir, { recursive: true });
  const full = {
    id: started.runId,
    spec: started.spec,
    specFile: 'experiments/x.yaml',
    specFiles: ['experiments/x.yaml'],
    overrides: [],
    status: 'done',
    pid: process.pid,
    host: hostname(),
    createdAt: events[0].time,
    command: ['xp', 'run'],
    resolvedSpec: {},
    stages: {},
    metrics: {},
    warnings: [],
    ...record,
  };
  writeFileSync(path.join(dir, 'run.json'), JSON.stringify(full));
  writeFileSync(path.join(dir, 'events.ndjson'), events.map((e) => JSON.stringify(e) + '\n').join(''));
  return started.runId;
}

describe('xp watch', () => {
  it('prints a finished run’s events and final summary, and exits 0', async () => {
    const id = writeRun(finishedRun(), { status: 'done' });
    const { code, stdout, stderr } = await xp('watch', 'latest');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`12:00:00 run ${id} (cnn-lstm): ingest → features → train → eval`);
    expect(stdout).toContain('12:00:20 features: done in 20.2s');
    expect(stdout).toContain('12:00:41 run done in 41.7s');
    expect(stdout).toContain(`run ${id} done in 41.7s · 1 of 4 stages from cache`);
    expect(stdout).toMatch(/eval\.f1\s+0\.8123 \[0\.7901, 0\.8345\]/);
    expect(stdout).toContain(`record: runs/${id}/run.json`);
    expect(stdout).not.toContain('plots:');
  });

  it('--json passes the events through unchanged; plots are pointed at when they exist', async () => {
    const events = finishedRun();
    const id = writeRun(events, { status: 'failed' });
    const file = readFileSync(path.join(root, 'runs', id, 'events.ndjson'), 'utf8');
    const json = await xp('watch', id.slice(0, 20), '--json');
    expect(json.code).toBe(0);
    expect(json.stdout).toBe(file);
    mkdirSync(path.join(root, 'runs', id, 'plots'));
    expect((await xp('watch', 'cnn-lstm@latest')).stdout).toContain(`plots:  runs/${id}/plots/`);
  });

  it('says so and exits 1 when the run’s process is gone without finishing', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const id = writeRun(midRun(), { status: 'running', pid: dead });
    const { code, stdout, stderr } = await xp('watch', 'latest');
    expect(code).toBe(1);
    expect(stdout).toContain('train: running');
    expect(stdout).not.toContain(`run ${id} done`);
    expect(stderr).toContain(`run ${id} never finished: its process (pid ${dead} on ${hostname()}) is gone, so the run is interrupted.`);
  });

  it('follows a run in another process until it finishes', async () => {
    writeFileSync(path.join(root, 'numbers.txt'), '1 2 3\n');
    const specFile = path.join(root, 'toy.json');
    writeFileSync(specFile, JSON.stringify({ name: 'toy', seed: 7, toy: { input: 'numbers.txt', factor: 2, label: 'a', sleep_ms: 1_500 } }));
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'tests/fixtures/runToy.ts'), root, specFile], { cwd: REPO_ROOT, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const runs = path.join(root, 'runs');
    const start = Date.now();
    while (!(existsSync(runs) && readdirSync(runs).some((id) => existsSync(path.join(runs, id, 'events.ndjson'))))) {
      if (Date.now() - start > 30_000) throw new Error('the toy run did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
    const [id] = readdirSync(runs);
    const atStart = readFileSync(path.join(runs, id, 'events.ndjson'), 'utf8');
    const { code, stdout } = await xp('watch', 'latest');
    await exited;
    expect(atStart).not.toContain('run-finished'); // it really was followed, not read after the fact
    expect(code).toBe(0);
    expect(stdout).toMatch(/scale: running/);
    expect(stdout).toMatch(/report: done in/);
    expect(stdout).toMatch(/run done in/);
    expect(stdout).toMatch(/report\.sum\s+12/);
  });
});
