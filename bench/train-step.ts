/**
 * Training-step benchmark of the libtorch engine against the PyTorch anchor, interleaved.
 *
 *   npx tsx bench/train-step.ts [--threads 1,2] [--steps 30] [--rounds 3] [--models cnn,cnn-lstm,lstm-cnn]
 *                               [--no-cpu-clock] [--tuned-anchor]
 *
 * For each round, thread count and model: median ms per training step (forward + BCE + backward +
 * Adam) at batch 32 on a fixed random input [32, 100, 40], exactly what
 * shared/anchors/torch_step_bench.py times; the anchor runs in the same invocation, alternating
 * before/after xp from round to round. Two clocks:
 * - wall: per-step wall time (the anchor script as is);
 * - cpu: per-step process CPU time (user+sys of all threads). Robust to a busy neighbour on this
 *   shared machine; at 1 thread it is the step's work. The anchor's CPU clock comes from the same
 *   script run with `time.perf_counter` replaced by `time.process_time` (nothing else changes).
 * Ratios are xp / torch (< 1: xp faster). Both sides run under OMP_WAIT_POLICY=PASSIVE with
 * OpenBLAS-OpenMP pinned by LD_LIBRARY_PATH (the bench re-executes itself to pin it for Node too).
 * --tuned-anchor adds a third anchor run (CPU clock) with glibc told never to give freed memory
 * back (MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_), the moral equivalent of the addon's caching
 * allocator: it separates the allocator's share of the speed-up from the rest.
 * Anchors folder: ../shared/anchors relative to the repository, or $XP_ANCHORS.
 * Model sizes are the anchor's: conv [16,32] (lstm-cnn: [16], as the anchor), kernel 3, pool 2,
 * LSTM 64, dense 64, dropout 0.3. Prints a table, then one JSON line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildGraph, type ModelSpec } from '../src/engine/graph.ts';
import { createLibtorchModel, libtorchAvailable, libtorchInfo, setLibtorchThreads } from '../src/engine/libtorch.ts';

const OPENBLAS_OPENMP = '/usr/lib/x86_64-linux-gnu/openblas-openmp';
const PYTHON = '/usr/bin/python3';
const B = 32;
const T = 100;
const F = 40;
const WARMUP = 5;

type Kind = 'cnn' | 'cnn-lstm' | 'lstm-cnn';
const ANCHOR_NAME: Record<Kind, string> = { cnn: 'cnn', 'cnn-lstm': 'cnn_lstm', 'lstm-cnn': 'lstm_cnn' };

interface Args {
  threads: number[];
  steps: number;
  rounds: number;
  models: Kind[];
  cpuClock: boolean;
  tunedAnchor: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { threads: [1, 2], steps: 30, rounds: 3, models: ['cnn', 'cnn-lstm', 'lstm-cnn'], cpuClock: true, tunedAnchor: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${k} needs a value`);
      return next;
    };
    if (k === '--threads') a.threads = v().split(',').map(Number);
    else if (k === '--steps') a.steps = Number(v());
    else if (k === '--rounds') a.rounds = Number(v());
    else if (k === '--models') a.models = v().split(',') as Kind[];
    else if (k === '--no-cpu-clock') a.cpuClock = false;
    else if (k === '--tuned-anchor') a.tunedAnchor = true;
    else throw new Error(`unknown option ${k}`);
  }
  if (a.threads.some((t) => !Number.isInteger(t) || t < 1)) throw new Error('--threads: positive integers');
  if (!Number.isInteger(a.steps) || a.steps < 1 || !Number.isInteger(a.rounds) || a.rounds < 1) throw new Error('--steps/--rounds: positive integers');
  for (const m of a.models) if (!(m in ANCHOR_NAME)) throw new Error(`unknown model ${m}`);
  return a;
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function anchorSpec(kind: Kind): ModelSpec {
  return {
    kind,
    conv: { filters: kind === 'lstm-cnn' ? [16] : [16, 32], kernel: 3, pool: 2 },
    lstm: { units: 64 },
    dense: { units: 64 },
    dropout: 0.3,
    batch_norm: false,
  };
}

/** Deterministic N(0,1) input and 0/1 labels (the anchor uses torch.randn / randint). */
function batchData(seed: number): { x: Float32Array; y: Float32Array } {
  let s = seed >>> 0;
  const u = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  const x = new Float32Array(B * T * F);
  for (let i = 0; i < x.length; i++) x[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const y = new Float32Array(B);
  for (let i = 0; i < B; i++) y[i] = u() < 0.5 ? 0 : 1;
  return { x, y };
}

interface Timing {
  wall: number;
  cpu: number;
}

function benchXp(kind: Kind, threads: number, steps: number): Timing {
  setLibtorchThreads(threads);
  const model = createLibtorchModel(buildGraph(anchorSpec(kind), { frames: T, coeffs: F }), { seed: 0, lr: 1e-3 });
  const { x, y } = batchData(0);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < WARMUP + steps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const loss = model.trainStep(x, y, B);
    const t1 = performance.now();
    const c1 = process.cpuUsage(c0);
    if (!Number.isFinite(loss)) throw new Error(`${kind}: loss is ${loss}`);
    if (i >= WARMUP) {
      wall.push(t1 - t0);
      cpu.push((c1.user + c1.system) / 1000);
    }
  }
  model.dispose();
  return { wall: median(wall), cpu: median(cpu) };
}

const CPU_SHIM = `
import importlib.util, sys, time
path = sys.argv[1]
spec = importlib.util.spec_from_file_location("torch_step_bench", path)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
class _CpuClock:
    perf_counter = staticmethod(time.process_time)
mod.time = _CpuClock  # the anchor times each step with time.perf_counter(); make it process CPU time
sys.argv = [path] + sys.argv[2:]
mod.main()
`;

const MALLOC_TUNED = { MALLOC_MMAP_THRESHOLD_: String(2 ** 31), MALLOC_TRIM_THRESHOLD_: String(2 ** 40) };

function runAnchor(script: string, threads: number, steps: number, models: Kind[], clock: 'wall' | 'cpu', tuned = false): Map<Kind, { ms: number; line: string }> {
  const args = ['--threads', String(threads), '--steps', String(steps), '--models', models.map((m) => ANCHOR_NAME[m]).join(',')];
  const argv = clock === 'wall' ? [script, ...args] : ['-c', CPU_SHIM, script, ...args];
  const env = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', LD_LIBRARY_PATH: OPENBLAS_OPENMP, ...(tuned ? MALLOC_TUNED : {}) };
  const r = spawnSync(PYTHON, argv, { env, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`anchor failed (${r.status}): ${r.stderr || r.error?.message}`);
  const out = new Map<Kind, { ms: number; line: string }>();
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const j = JSON.parse(line) as { model: string; threads: number; step_ms_median: number; blas: string };
    if (j.threads !== threads) throw new Error(`anchor ran with ${j.threads} threads, asked ${threads}`);
    const kind = models.find((m) => ANCHOR_NAME[m] === j.model);
    if (kind) out.set(kind, { ms: j.step_ms_median, line });
  }
  return out;
}

function blasMapped(): string {
  try {
    const libs = readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .map((l) => l.trim().split(/\s+/).pop() ?? '')
      .filter((p) => /libblas\.so|libopenblas/.test(p));
    if (libs.length === 0) return 'unknown';
    const dir = dirname(libs.sort()[0]).split('/').pop() ?? '?';
    return dir === 'blas' ? 'reference (netlib libblas3)' : dir;
  } catch {
    return 'unknown';
  }
}

function main(): void {
  // Pin OpenBLAS-OpenMP and passive OpenMP waiting for this process too: both are read at load time.
  if (!(process.env.LD_LIBRARY_PATH ?? '').split(':').includes(OPENBLAS_OPENMP) || process.env.OMP_WAIT_POLICY !== 'PASSIVE') {
    if (process.env.XP_BENCH_REEXEC) throw new Error('could not pin LD_LIBRARY_PATH / OMP_WAIT_POLICY');
    const env = {
      ...process.env,
      XP_BENCH_REEXEC: '1',
      OMP_WAIT_POLICY: 'PASSIVE',
      LD_LIBRARY_PATH: [OPENBLAS_OPENMP, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    };
    const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { env, stdio: 'inherit' });
    process.exit(r.status ?? 1);
  }

  const args = parseArgs(process.argv.slice(2));
  const avail = libtorchAvailable();
  if (!avail.ok) {
    console.error(`libtorch backend unavailable: ${avail.reason}`);
    process.exit(1);
  }
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const anchors = process.env.XP_ANCHORS ?? resolve(repo, '..', 'shared', 'anchors');
  const script = join(anchors, 'torch_step_bench.py');
  if (!existsSync(script)) throw new Error(`anchor not found: ${script} (set XP_ANCHORS)`);

  const info = libtorchInfo();
  const load0 = loadavg();
  console.log(`# xp libtorch ${info.torchVersion} (blas: ${blasMapped()}), anchor ${script}`);
  console.log(`# batch ${B}, input [${B},${T},${F}], ${args.steps} steps after ${WARMUP} warm-up, ${args.rounds} round(s), load average ${load0.map((l) => l.toFixed(2)).join(' ')}`);

  type Row = { model: Kind; threads: number; xp: Timing[]; torch: Array<{ wall: number; cpu?: number; tunedCpu?: number }>; anchorLines: string[] };
  const rows = new Map<string, Row>();
  const row = (model: Kind, threads: number): Row => {
    const k = `${model}/${threads}`;
    if (!rows.has(k)) rows.set(k, { model, threads, xp: [], torch: [], anchorLines: [] });
    return rows.get(k)!;
  };

  for (let round = 0; round < args.rounds; round++) {
    for (const threads of args.threads) {
      const doXp = (): void => {
        for (const kind of args.models) row(kind, threads).xp.push(benchXp(kind, threads, args.steps));
      };
      const doAnchor = (): void => {
        const wall = runAnchor(script, threads, args.steps, args.models, 'wall');
        const cpu = args.cpuClock ? runAnchor(script, threads, args.steps, args.models, 'cpu') : undefined;
        const tuned = args.tunedAnchor ? runAnchor(script, threads, args.steps, args.models, 'cpu', true) : undefined;
        for (const kind of args.models) {
          const w = wall.get(kind);
          if (!w) throw new Error(`anchor printed no result for ${kind}`);
          row(kind, threads).torch.push({ wall: w.ms, cpu: cpu?.get(kind)?.ms, tunedCpu: tuned?.get(kind)?.ms });
          row(kind, threads).anchorLines.push(w.line);
        }
      };
      if (round % 2 === 0) {
        doXp();
        doAnchor();
      } else {
        doAnchor();
        doXp();
      }
      for (const kind of args.models) {
        const r = row(kind, threads);
        const x = r.xp[r.xp.length - 1];
        const t = r.torch[r.torch.length - 1];
        const cpuPart = t.cpu !== undefined ? `  cpu xp ${x.cpu.toFixed(1)} / torch ${t.cpu.toFixed(1)} = ${(x.cpu / t.cpu).toFixed(2)}` : '';
        const tunedPart = t.tunedCpu !== undefined ? `  cpu xp / tuned torch ${t.tunedCpu.toFixed(1)} = ${(x.cpu / t.tunedCpu).toFixed(2)}` : '';
        console.log(`round ${round + 1} t=${threads} ${kind.padEnd(8)} wall xp ${x.wall.toFixed(1)} / torch ${t.wall.toFixed(1)} = ${(x.wall / t.wall).toFixed(2)}${cpuPart}${tunedPart}`);
      }
    }
  }

  console.log(`\nmodel     threads  xp wall ms  torch wall ms  ratio(wall) |  xp cpu ms  torch cpu ms  ratio(cpu)${args.tunedAnchor ? ' | tuned torch cpu  ratio' : ''}   [ratios: median of per-round ratios]`);
  const results = [];
  for (const r of rows.values()) {
    const wallRatios = r.xp.map((x, i) => x.wall / r.torch[i].wall);
    const cpuRatios = r.torch.every((t) => t.cpu !== undefined) ? r.xp.map((x, i) => x.cpu / r.torch[i].cpu!) : [];
    const res = {
      model: r.model,
      threads: r.threads,
      xp_wall_ms: +median(r.xp.map((x) => x.wall)).toFixed(2),
      torch_wall_ms: +median(r.torch.map((t) => t.wall)).toFixed(2),
      ratio_wall: +median(wallRatios).toFixed(3),
      xp_cpu_ms: +median(r.xp.map((x) => x.cpu)).toFixed(2),
      torch_cpu_ms: cpuRatios.length ? +median(r.torch.map((t) => t.cpu!)).toFixed(2) : null,
      ratio_cpu: cpuRatios.length ? +median(cpuRatios).toFixed(3) : null,
      torch_tuned_cpu_ms: args.tunedAnchor ? +median(r.torch.map((t) => t.tunedCpu!)).toFixed(2) : null,
      ratio_cpu_vs_tuned: args.tunedAnchor ? +median(r.xp.map((x, i) => x.cpu / r.torch[i].tunedCpu!)).toFixed(3) : null,
      rounds_ratio_wall: wallRatios.map((v) => +v.toFixed(3)),
      rounds_ratio_cpu: cpuRatios.map((v) => +v.toFixed(3)),
    };
    results.push(res);
    console.log(
      `${r.model.padEnd(9)} ${String(r.threads).padStart(7)}  ${res.xp_wall_ms.toFixed(1).padStart(10)}  ${res.torch_wall_ms.toFixed(1).padStart(13)}  ${res.ratio_wall.toFixed(2).padStart(11)} | ${res.xp_cpu_ms.toFixed(1).padStart(10)}  ${(res.torch_cpu_ms ?? NaN).toFixed(1).padStart(12)}  ${(res.ratio_cpu ?? NaN).toFixed(2).padStart(10)}${args.tunedAnchor ? ` | ${(res.torch_tuned_cpu_ms ?? NaN).toFixed(1).padStart(15)}  ${(res.ratio_cpu_vs_tuned ?? NaN).toFixed(2).padStart(5)}` : ''}`,
    );
  }
  const load1 = loadavg();
  console.log(`# load average at the end ${load1.map((l) => l.toFixed(2)).join(' ')}`);
  console.log(
    JSON.stringify({
      bench: 'train-step',
      batch: B,
      input: [T, F],
      steps: args.steps,
      rounds: args.rounds,
      torch: info.torchVersion,
      blas: blasMapped(),
      loadavg: { start: load0, end: load1 },
      results,
    }),
  );
}

main();
