/**
 * No-op re-run cost: run a finished spec again and time the whole `xp run` process (start-up,
 * spec load, git state, hashing every input through the stat cache, cache lookups, record).
 * Prints it against the cold run of the same spec in the same invocation.
 *
 *   npx tsx bench/noop-rerun.ts [--spec experiments/baseline-cnn.yaml] [--repeats 5] [--set k=v ...]
 *
 * Target: no-op < 1 s and < 2 % of the cold run. The floor is Node's own start-up, printed too.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const repo = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    spec: { type: 'string', default: 'experiments/baseline-cnn.yaml' },
    repeats: { type: 'string', default: '5' },
    set: { type: 'string', multiple: true, default: [] },
  },
});

const root = mkdtempSync(path.join(tmpdir(), 'xp-noop-'));
cpSync(path.join(repo, 'experiments'), path.join(root, 'experiments'), { recursive: true });
symlinkSync(path.join(repo, 'data'), path.join(root, 'data'));

function timed(command: string, args: string[]): number {
  const start = performance.now();
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', env: { ...process.env, XP_ROOT: root } });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stderr}`);
  return ms;
}

const xp = path.join(repo, 'bin/xp.js');
const runArgs = [xp, 'run', values.spec!, ...values.set!.flatMap((s) => ['--set', s])];
try {
  const cold = timed(process.execPath, runArgs);
  const repeats = Number(values.repeats);
  const noop = Array.from({ length: repeats }, () => timed(process.execPath, runArgs)).sort((a, b) => a - b);
  const nodeFloor = Array.from({ length: repeats }, () => timed(process.execPath, ['-e', '0'])).sort((a, b) => a - b);
  const median = (xs: number[]) => xs[Math.floor(xs.length / 2)];
  const result = {
    spec: values.spec,
    cold_s: +(cold / 1000).toFixed(2),
    noop_s: +(median(noop) / 1000).toFixed(3),
    noop_min_s: +(noop[0] / 1000).toFixed(3),
    node_startup_s: +(median(nodeFloor) / 1000).toFixed(3),
    ratio: +(median(noop) / cold).toFixed(4),
  };
  console.log(`spec               ${result.spec}${values.set!.map((s) => ` --set ${s}`).join('')}`);
  console.log(`cold run           ${result.cold_s} s`);
  console.log(`no-op re-run       ${result.noop_s} s (median of ${repeats}; min ${result.noop_min_s} s)   target < 1 s`);
  console.log(`node -e 0          ${result.node_startup_s} s (floor)`);
  console.log(`no-op / cold       ${(result.ratio * 100).toFixed(2)} %   target < 2 %`);
  console.log(JSON.stringify(result));
} finally {
  rmSync(root, { recursive: true, force: true });
}
