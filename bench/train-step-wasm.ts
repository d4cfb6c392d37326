/**
 * ms per training step, batch 32 on [32, 100, 40], for the three models on the TF.js wasm engine,
 * with libtorch beside it (same process, 1 thread) when its addon is built, and one cpu step.
 * Usage: npx tsx bench/train-step-wasm.ts [--steps N] [--no-cpu]
 */
import { buildGraph, type ModelSpec } from '../src/engine/graph.ts';
import { createLibtorchModel, libtorchAvailable, setLibtorchThreads } from '../src/engine/libtorch.ts';
import { createTfjsModel } from '../src/engine/tfjs.ts';
import { tfjsRuntime } from '../src/engine/tfjsRuntime.ts';

const args = process.argv.slice(2);
const steps = Number(args[args.indexOf('--steps') + 1]) || 5;
const withCpu = !args.includes('--no-cpu');
const B = 32;
const input = { frames: 100, coeffs: 40 };

function spec(kind: ModelSpec['kind']): ModelSpec {
  return { kind, conv: { filters: [16, 32], kernel: 3, pool: 2 }, lstm: { units: 64 }, dense: { units: 64 }, dropout: 0.25, batch_norm: false };
}

let s = 1;
const x = Float32Array.from({ length: B * input.frames * input.coeffs }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
const y = Float32Array.from({ length: B }, (_, i) => i % 2);

function time(step: () => number, n: number): { median: number; min: number } {
  step(); // warm-up (JIT, allocations)
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    step();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return { median: t[Math.floor(t.length / 2)], min: t[0] };
}

const torch = libtorchAvailable();
if (torch.ok) setLibtorchThreads(1);
const wasmRt = tfjsRuntime('wasm');
console.log(`batch ${B}, input [${B},${input.frames},${input.coeffs}], ${steps} timed steps after 1 warm-up; wall ms (median / min)`);
console.log(`wasm: ${'error' in wasmRt ? wasmRt.error : wasmRt.description}; libtorch: ${torch.ok ? `${torch.torchVersion}, 1 thread` : torch.reason}`);
const rows: string[][] = [['model', 'wasm', 'libtorch', 'wasm/libtorch', 'cpu (1 step)']];
for (const kind of ['cnn', 'cnn-lstm', 'lstm-cnn'] as const) {
  const graph = buildGraph(spec(kind), input);
  const w = createTfjsModel('wasm', graph, { seed: 1 });
  const tw = time(() => w.trainStep(x, y, B), steps);
  w.dispose();
  let tt: { median: number; min: number } | null = null;
  if (torch.ok) {
    const t = createLibtorchModel(graph, { seed: 1 });
    tt = time(() => t.trainStep(x, y, B), steps);
    t.dispose();
  }
  let cpu = '–';
  if (withCpu && kind === 'cnn') {
    const c = createTfjsModel('cpu', graph, { seed: 1 });
    const t0 = performance.now();
    c.trainStep(x, y, B);
    cpu = (performance.now() - t0).toFixed(0);
    c.dispose();
  }
  rows.push([kind, `${tw.median.toFixed(1)} / ${tw.min.toFixed(1)}`, tt ? `${tt.median.toFixed(1)} / ${tt.min.toFixed(1)}` : 'n/a', tt ? (tw.median / tt.median).toFixed(1) : 'n/a', cpu]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
console.log(`load average: ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
