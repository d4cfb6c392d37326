/**
 * No-op re-run cost: run a finished spec again and time the whole `xp run` process (start-up,
 * spec load, git state, hashing every input through the stat cache, cache lookups, record).
 * Prints it against the cold run of the same spec in the same invocation.
 *
 *   npx tsx bench/noop-rerun.ts [--spec experiments/baseline-cnn.yaml] [--repeats 5] [--set k=v ...] [--from-source]
 *
 * Target: no-op < 1 s and < 2 % of the cold run. The floor is Node's own start-up, printed too.
 * bin/xp.cjs runs the compiled dist/ when it is fresh (`npm run build`), else src/ through tsx;
 * the bench prints which one it measured. --from-source measures src/ through tsx
 * (XP_FROM_SOURCE=1).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { distState } from '../scripts/dist-stamp.cjs';

const repo = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    spec: { type: 'string', default: 'experiments/baseline-cnn.yaml' },
    repeats: { type: 'string', default: '5' },
    set: { type: 'string', multiple: true, default: [] },
    'from-source': { type: 'boolean', default: false },
  },
});
const fromSource = values['from-source']!;
const mode = () => (fromSource ? 'src via tsx (--from-source)' : distState() === 'fresh' ? 'dist (compiled)' : `src via tsx (dist/ is ${distState()}: npm run build)`);
const modeBefore = mode();

const root = mkdtempSync(path.join(tmpdir(), 'xp-noop-'));
cpSync(path.join(repo, 'experiments'), path.join(root, 'experiments'), { recursive: true });
symlinkSync(path.join(repo, 'data'), path.join(root, 'data'));

function timed(command: string, args: string[]): number {
  const start = performance.now();
  const env = { ...process.env, XP_ROOT: root, ...(fromSource ? { XP_FROM_SOURCE: '1' } : {}) };
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', env });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stderr}`);
  return ms;
}

const xp = path.join(repo, 'bin/xp.cjs');
const runArgs = [xp, 'run', values.spec!, ...values.set!.flatMap((s) => ['--set', s])];
try {
  const cold = timed(process.execPath, runArgs);
  const repeats = Number(values.repeats);
  const noop = Array.from({ length: repeats }, () => timed(process.execPath, runArgs)).sort((a, b) => a - b);
  const nodeFloor = Array.from({ length: repeats }, () => timed(process.execPath, ['-e', '0'])).sort((a, b) => a - b);
  const median = (xs: number[]) => xs[Math.floor(xs.length / 2)];
  const modeAfter = mode();
  const result = {
    spec: values.spec,
    xp: modeBefore === modeAfter ? modeBefore : `${modeBefore}, then ${modeAfter} (sources changed during the bench)`,
    cold_s: +(cold / 1000).toFixed(2),
    noop_s: +(median(noop) / 1000).toFixed(3),
    noop_min_s: +(noop[0] / 1000).toFixed(3),
    node_startup_s: +(median(nodeFloor) / 1000).toFixed(3),
    ratio: +(median(noop) / cold).toFixed(4),
  };
  console.log(`spec               ${result.spec}${values.set!.map((s) => ` --set ${s}`).join('')}`);
  console.log(`xp ran from        ${result.xp}`);
  console.log(`cold run           ${result.cold_s} s`);
  console.log(`no-op re-run       ${result.noop_s} s (median of ${repeats}; min ${result.noop_min_s} s)   target < 1 s`);
  console.log(`node -e 0          ${result.node_startup_s} s (floor)`);
  console.log(`no-op / cold       ${(result.ratio * 100).toFixed(2)} %   target < 2 %`);
  console.log(JSON.stringify(result));
} finally {
  rmSync(root, { recursive: true, force: true });
}
