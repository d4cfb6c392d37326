/**
 * No-op re-run cost: run a finished spec again and time the whole `xp run` process (start-up,
 * spec load, git state, hashing every input through the stat cache, cache lookups, record).
 * Prints it against the cold run of the same spec in the same invocation, for a project in a
 * git repository (as users keep one) and for a copy outside any repository.
 *
 *   npx tsx bench/noop-rerun.ts [--spec experiments/baseline-cnn.yaml] [--repeats 9] [--cold-repeats 3] [--set k=v ...] [--from-source] [--samples]
 *
 * The cold run is the median of --cold-repeats runs, each with .xp/ and runs/ removed first (its
 * length varies by ±10 % here, more than the no-op's).
 *
 * Target: no-op < 1 s and < 2 % of the cold run. The floor is Node's own start-up, printed too.
 * bin/xp.js runs the compiled dist/ when it is fresh (`npm run build`), else src/ through tsx;
 * the bench prints which one it measured. --from-source measures src/ through tsx
 * (XP_FROM_SOURCE=1).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { distState } from '../scripts/dist-stamp.cjs';

const repo = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    spec: { type: 'string', default: 'experiments/baseline-cnn.yaml' },
    repeats: { type: 'string', default: '9' },
    'cold-repeats': { type: 'string', default: '3' },
    samples: { type: 'boolean', default: false },
    set: { type: 'string', multiple: true, default: [] },
    'from-source': { type: 'boolean', default: false },
  },
});
const fromSource = values['from-source']!;
const mode = () => (fromSource ? 'src via tsx (--from-source)' : distState() === 'fresh' ? 'dist/xp.cjs (the compiled bundle)' : `src via tsx (dist/ is ${distState()}: npm run build)`);
const modeBefore = mode();

// The project as users have one: experiments/ in a git repository (runs/ and .xp/ ignored), data/
// beside it. A copy outside any repository (same cache, so every stage is cached there too)
// shows what git's part of a run record costs.
const root = mkdtempSync(path.join(tmpdir(), 'xp-noop-'));
const inRepo = path.join(root, 'in-git');
const noRepo = path.join(root, 'no-git');
mkdirSync(inRepo);
cpSync(path.join(repo, 'experiments'), path.join(inRepo, 'experiments'), { recursive: true });
symlinkSync(path.join(repo, 'data'), path.join(inRepo, 'data'));
writeFileSync(path.join(inRepo, '.gitignore'), 'runs/\n.xp/\n');
const git = (...args: string[]) => spawnSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...args], { cwd: inRepo });
git('init', '-q');
git('add', '-A');
git('commit', '-qm', 'experiments');

function timed(cwd: string, command: string, args: string[]): number {
  const start = performance.now();
  const env = { ...process.env, XP_ROOT: cwd, ...(fromSource ? { XP_FROM_SOURCE: '1' } : {}) };
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stderr}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const xp = path.join(repo, 'bin/xp.js');
const runArgs = [xp, 'run', values.spec!, ...values.set!.flatMap((s) => ['--set', s])];
try {
  const colds: number[] = [];
  for (let i = 0; i < Number(values['cold-repeats']); i++) {
    for (const name of ['.xp', 'runs']) rmSync(path.join(inRepo, name), { recursive: true, force: true });
    colds.push(timed(inRepo, process.execPath, runArgs));
  }
  mkdirSync(noRepo);
  for (const name of ['experiments', '.xp']) cpSync(path.join(inRepo, name), path.join(noRepo, name), { recursive: true });
  symlinkSync(path.join(repo, 'data'), path.join(noRepo, 'data'));
  timed(noRepo, process.execPath, runArgs); // its stat cache learns the new paths
  const repeats = Number(values.repeats);
  const times = { git: [] as number[], plain: [] as number[], node: [] as number[] };
  // Interleaved, so a slow spell of the machine hits all three alike.
  for (let i = 0; i < repeats; i++) {
    times.git.push(timed(inRepo, process.execPath, runArgs));
    times.plain.push(timed(noRepo, process.execPath, runArgs));
    times.node.push(timed(root, process.execPath, ['-e', '0']));
  }
  const seconds = (ms: number) => +(ms / 1000).toFixed(3);
  const modeAfter = mode();
  const result = {
    spec: values.spec,
    xp: modeBefore === modeAfter ? modeBefore : `${modeBefore}, then ${modeAfter} (sources changed during the bench)`,
    cold_s: +(median(colds) / 1000).toFixed(2),
    cold_runs_s: colds.map((ms) => +(ms / 1000).toFixed(2)),
    noop_s: seconds(median(times.git)),
    noop_min_s: seconds(Math.min(...times.git)),
    noop_no_git_s: seconds(median(times.plain)),
    node_startup_s: seconds(median(times.node)),
    ratio: +(median(times.git) / median(colds)).toFixed(4),
    ratio_no_git: +(median(times.plain) / median(colds)).toFixed(4),
  };
  console.log(`spec                    ${result.spec}${values.set!.map((s) => ` --set ${s}`).join('')}`);
  console.log(`xp ran from             ${result.xp}`);
  console.log(`cold run                ${result.cold_s} s (median of ${result.cold_runs_s.join(', ')} s; in a git repository)`);
  console.log(`no-op re-run            ${result.noop_s} s (median of ${repeats}; min ${result.noop_min_s} s)   target < 1 s`);
  console.log(`  outside git           ${result.noop_no_git_s} s (median; the run record then has no commit to read)`);
  console.log(`node -e 0               ${result.node_startup_s} s (floor)`);
  console.log(`no-op / cold            ${(result.ratio * 100).toFixed(2)} % (outside git ${(result.ratio_no_git * 100).toFixed(2)} %)   target < 2 %`);
  if (values.samples) console.log(JSON.stringify({ samples_ms: times }));
  console.log(JSON.stringify(result));
} finally {
  rmSync(root, { recursive: true, force: true });
}
