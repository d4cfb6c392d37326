/**
 * What the Ink dashboard costs a run: `npx tsx bench/reporter.ts [--quick]`.
 *
 * A synthetic run (50k clip-progress events, 300 epochs of metrics, 100 search trials) is
 * replayed with a fixed amount of CPU work between events, yielding to the event loop the
 * way a real stage does while it awaits workers. Each pass runs once without a reporter
 * (the anchor) and once with the dashboard drawing to a fake 100×40 terminal, alternating.
 * Two deliveries: "bus" goes through RunEvents (as `xp run` does, progress thinned to 5/s
 * per stage), "every-event" hands every single event to the dashboard (its worst case).
 *
 * Overhead, as % of the run's wall time (target < 2%), two ways:
 * - accounted: the time the dashboard itself spent (folding events + drawing frames, timed
 *   inside it) over the pass's wall time. Steady on a busy machine.
 * - A/B: median extra wall (and CPU) time of the pass with the dashboard over the one
 *   without. Includes what accounting misses (GC, Ink's timers), but on a shared machine its
 *   noise can be larger than the effect; the spread over the pairs is printed.
 * A frame's cost is also timed on its own. The last line is JSON.
 */
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { RunEvent, StampedEvent } from '../src/runner/events.ts';

// Ink renders only the last frame when it believes it runs in CI: measure the real thing.
const ciWasSet = 'CI' in process.env || 'CONTINUOUS_INTEGRATION' in process.env;
delete process.env.CI;
delete process.env.CONTINUOUS_INTEGRATION;
const { RunEvents } = await import('../src/runner/events.ts');
const { startDashboard } = await import('../src/ui/dashboard.tsx');
await (await import('../src/ui/ink.ts')).loadInk();
const { DashboardView, layoutDashboard } = await import('../src/ui/DashboardView.tsx');
const { initialState, reduce } = await import('../src/ui/state.ts');
const { render } = await import('ink');
const React = await import('react');

const quick = process.argv.includes('--quick');
const PROGRESS_EVENTS = quick ? 10_000 : 50_000;
const EPOCHS = quick ? 60 : 300;
const TRIALS = quick ? 20 : 100;
const WORK_US_PER_EVENT = 60;
const EVENTS_PER_YIELD = 8;
const PAIRS = quick ? 2 : 3;

class FakeTerminal extends EventEmitter {
  columns = 100;
  rows = 40;
  isTTY = true;
  bytes = 0;
  writes = 0;
  write(chunk: string | Uint8Array): boolean {
    this.bytes += chunk.length;
    this.writes++;
    return true;
  }
}

/** The run, in order: what each stage reports. */
function* syntheticRun(): Generator<RunEvent> {
  const stages = ['ingest', 'features', 'train', 'search', 'eval'];
  yield { type: 'run-started', runId: '20260301-120000-bench-0000', spec: 'bench', stages: stages.map((id, i) => ({ id, needs: i ? [stages[i - 1]] : [] })) };
  for (const stage of stages) yield { type: 'stage-status', stage, status: 'pending' };
  yield { type: 'stage-status', stage: 'ingest', status: 'cached', key: 'a'.repeat(64), durationMs: 30 };
  yield { type: 'stage-status', stage: 'features', status: 'running', key: 'b'.repeat(64) };
  for (let done = 1; done <= PROGRESS_EVENTS; done++) {
    yield { type: 'stage-progress', stage: 'features', done, total: PROGRESS_EVENTS, unit: 'clips' };
    if (done % 5_000 === 0) yield { type: 'log', level: 'warn', stage: 'features', message: `clip ${done}.mp3 is silent after trimming; skipped` };
  }
  yield { type: 'stage-status', stage: 'features', status: 'done', key: 'b'.repeat(64), durationMs: 1 };
  yield { type: 'stage-status', stage: 'train', status: 'running', key: 'c'.repeat(64) };
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    yield { type: 'stage-progress', stage: 'train', done: epoch, total: EPOCHS, unit: 'epochs' };
    yield {
      type: 'metrics',
      stage: 'train',
      step: epoch,
      series: 'epoch',
      values: { loss: 1 / epoch, val_loss: 1.2 / epoch + 0.1, val_accuracy: 1 - 0.5 / epoch, val_f1: 1 - 0.6 / epoch, samples_per_s: 800 + (epoch % 7) },
    };
  }
  yield { type: 'stage-status', stage: 'train', status: 'done', key: 'c'.repeat(64), durationMs: 1 };
  yield { type: 'stage-status', stage: 'search', status: 'running', key: 'd'.repeat(64) };
  for (let trial = 1; trial <= TRIALS; trial++) {
    const params = { 'model.lstm.units': [32, 64, 128][trial % 3], 'train.lr': 1e-4 * (1 + (trial % 10)) };
    for (let epoch = 1; epoch <= 3; epoch++) yield { type: 'trial', stage: 'search', trial, status: 'running', params, epoch };
    const status = trial % 10 === 0 ? 'failed' : trial % 7 === 0 ? 'pruned' : 'done';
    yield { type: 'trial', stage: 'search', trial, status, params, objective: status === 'failed' ? undefined : 0.6 + ((trial * 37) % 100) / 400 };
    yield { type: 'stage-progress', stage: 'search', done: trial, total: TRIALS, unit: 'trials' };
  }
  yield { type: 'stage-status', stage: 'search', status: 'done', key: 'd'.repeat(64), durationMs: 1 };
  yield { type: 'stage-status', stage: 'eval', status: 'done', key: 'e'.repeat(64), durationMs: 1 };
  yield { type: 'run-finished', status: 'done', durationMs: 1, metrics: { 'eval.f1': 0.81, 'eval.f1_lo': 0.79, 'eval.f1_hi': 0.83 } };
}

const EVENTS = [...syntheticRun()];

let sink = 0;
function spin(iterations: number): void {
  let x = sink | 1;
  for (let i = 0; i < iterations; i++) x = (Math.imul(x, 1103515245) + 12345) >>> 0;
  sink = x;
}

function calibrate(): number {
  let iterations = 1_000;
  for (;;) {
    const start = performance.now();
    spin(iterations);
    const ms = performance.now() - start;
    if (ms > 50) return Math.round((iterations / (ms * 1000)) * WORK_US_PER_EVENT);
    iterations *= 2;
  }
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

type Delivery = 'bus' | 'every-event';

interface Pass {
  ms: number;
  cpuMs: number;
  frames: number;
  bytes: number;
  delivered: number;
  /** ms the dashboard spent folding events and drawing. */
  accountedMs: number;
  /** Part of it: the first frame (Ink's start-up, paid once per run). */
  firstFrameMs: number;
  drawMs: number;
  foldMs: number;
}

async function pass(delivery: Delivery, withDashboard: boolean, iterations: number): Promise<Pass> {
  const terminal = new FakeTerminal();
  const bus = new RunEvents();
  let frames = 0;
  let delivered = 0;
  let direct: ((event: StampedEvent) => void) | undefined;
  let dashboard: ReturnType<typeof startDashboard> | undefined;
  if (delivery === 'every-event') {
    // Hand every event straight to the dashboard's listener, bypassing the bus's thinning.
    const origin = new RunEvents();
    const original = origin.on.bind(origin);
    origin.on = (listener) => {
      direct = listener;
      return original(listener);
    };
    if (withDashboard) startDashboardFor(origin);
  } else {
    bus.on(() => delivered++);
    if (withDashboard) startDashboardFor(bus);
  }
  function startDashboardFor(source: InstanceType<typeof RunEvents>) {
    dashboard = startDashboard(source, { stdout: terminal as unknown as NodeJS.WriteStream, system: true, color: true, patchConsole: false, onFrame: () => frames++ });
  }
  let seq = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < EVENTS.length; i++) {
    spin(iterations);
    const event = EVENTS[i];
    if (delivery === 'bus') {
      bus.emit(event);
    } else {
      delivered++;
      direct?.({ ...event, time: new Date().toISOString(), seq: seq++ } as StampedEvent);
    }
    if (i % EVENTS_PER_YIELD === 0) await yieldToLoop();
  }
  dashboard?.stop();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const stats = dashboard?.stats();
  return { ms, cpuMs: (used.user + used.system) / 1000, frames, bytes: terminal.bytes, delivered, accountedMs: stats ? stats.drawMs + stats.foldMs : 0, firstFrameMs: stats?.firstFrameMs ?? 0, drawMs: stats?.drawMs ?? 0, foldMs: stats?.foldMs ?? 0 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** One frame of a busy screen (training curves, leaderboard, warnings), rendered through Ink. */
function frameCost(): number {
  const terminal = new FakeTerminal();
  const stamped = EVENTS.slice(0, EVENTS.length - 1).map((e, seq) => ({ ...e, time: new Date(Date.UTC(2026, 2, 1) + seq * 10).toISOString(), seq }) as StampedEvent);
  const state = stamped.reduce(reduce, initialState());
  const now = state.lastEventAt!;
  const system = { cpuPercent: 100, cores: 2, rssBytes: 2e8, heapUsedBytes: 5e7, load1: 1, freeMemBytes: 4e9, totalMemBytes: 8e9 };
  const element = (tick: number) => {
    const props = { state, width: 100, rows: 40, now: now + tick * 100, color: true, system };
    return React.createElement(DashboardView, { ...props, layout: layoutDashboard(props) });
  };
  const instance = render(element(0), { stdout: terminal as unknown as NodeJS.WriteStream, patchConsole: false, maxFps: 100_000 });
  const n = 300;
  const start = performance.now();
  for (let i = 1; i <= n; i++) instance.rerender(element(i));
  const ms = (performance.now() - start) / n;
  instance.unmount();
  return ms;
}

const iterations = calibrate();
console.log(`load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} on ${os.availableParallelism()} cores`);
console.log(`${EVENTS.length} events (${PROGRESS_EVENTS} progress, ${EPOCHS} epochs, ${TRIALS} trials); ~${WORK_US_PER_EVENT} µs of CPU work per event; yield every ${EVENTS_PER_YIELD} events`);
if (ciWasSet) console.log('(CI was set in the environment; unset for this bench so Ink draws every frame)');
await pass('bus', true, iterations); // warm-up: JIT, Ink's first import costs

interface Result {
  anchorMs: number;
  dashboardMs: number;
  abWallPct: number;
  abCpuPct: number;
  abWallPctRange: [number, number];
  accountedPct: number;
  /** Without the first frame: what a long run pays. */
  steadyPct: number;
  firstFrameMs: number;
  frames: number;
  framesPerS: number;
  drawMs: number;
  foldMs: number;
  bytes: number;
  delivered: number;
}
const results = {} as Record<Delivery, Result>;
const pct = (x: number) => Number((x * 100).toFixed(2));
for (const delivery of ['bus', 'every-event'] as Delivery[]) {
  const pairs: { anchor: Pass; dash: Pass }[] = [];
  for (let i = 0; i < PAIRS; i++) {
    // Alternate which goes first so drift on a shared machine falls on both.
    if (i % 2 === 0) {
      const anchor = await pass(delivery, false, iterations);
      pairs.push({ anchor, dash: await pass(delivery, true, iterations) });
    } else {
      const dash = await pass(delivery, true, iterations);
      pairs.push({ anchor: await pass(delivery, false, iterations), dash });
    }
  }
  const wallDiffs = pairs.map((p) => (p.dash.ms - p.anchor.ms) / p.anchor.ms);
  const last = pairs[pairs.length - 1].dash;
  const r: Result = {
    anchorMs: Math.round(median(pairs.map((p) => p.anchor.ms))),
    dashboardMs: Math.round(median(pairs.map((p) => p.dash.ms))),
    abWallPct: pct(median(wallDiffs)),
    abCpuPct: pct(median(pairs.map((p) => (p.dash.cpuMs - p.anchor.cpuMs) / p.anchor.ms))),
    abWallPctRange: [pct(Math.min(...wallDiffs)), pct(Math.max(...wallDiffs))],
    accountedPct: pct(median(pairs.map((p) => p.dash.accountedMs / p.dash.ms))),
    steadyPct: pct(median(pairs.map((p) => (p.dash.accountedMs - p.dash.firstFrameMs) / p.dash.ms))),
    firstFrameMs: Math.round(median(pairs.map((p) => p.dash.firstFrameMs))),
    frames: last.frames,
    framesPerS: Number(((last.frames * 1000) / last.ms).toFixed(1)),
    drawMs: Math.round(last.drawMs),
    foldMs: Math.round(last.foldMs),
    bytes: last.bytes,
    delivered: last.delivered,
  };
  results[delivery] = r;
  console.log(
    `${delivery.padEnd(11)}  without ${String(r.anchorMs).padStart(6)} ms  with ${String(r.dashboardMs).padStart(6)} ms  ` +
      `accounted ${r.accountedPct.toFixed(2)}% (${r.steadyPct.toFixed(2)}% after the ${r.firstFrameMs} ms first frame)  A/B wall ${r.abWallPct.toFixed(2)}% [${r.abWallPctRange.map((x) => x.toFixed(1)).join(', ')}]  A/B cpu ${r.abCpuPct.toFixed(2)}%  ` +
      `(${r.frames} frames, ${r.framesPerS}/s, ${r.drawMs} ms drawing, ${r.foldMs} ms folding events, ${(r.bytes / 1024).toFixed(0)} KiB, ${r.delivered} events to the dashboard)`,
  );
}

const perFrameMs = frameCost();
const modelPct = (perFrameMs * 10) / 10; // 10 frames/s × ms per frame, as % of a second
console.log(`one frame (busy screen, 100×40): ${perFrameMs.toFixed(2)} ms; at a steady 10 frames/s that would be ${modelPct.toFixed(2)}% (the dashboard slows down instead: pause ≥ 75× frame cost)`);
const headline = results.bus.accountedPct;
console.log(
  `overhead of the dashboard on a run (events through RunEvents, as in xp run): ${headline.toFixed(2)}% of wall time, ` +
    `target < 2%: ${headline < 2 ? 'met' : 'NOT met'}; every event delivered (worst case): ${results['every-event'].accountedPct.toFixed(2)}%`,
);
console.log(
  JSON.stringify({
    bench: 'reporter',
    events: EVENTS.length,
    workUsPerEvent: WORK_US_PER_EVENT,
    pairs: PAIRS,
    bus: results.bus,
    everyEvent: results['every-event'],
    perFrameMs: Number(perFrameMs.toFixed(3)),
    overheadAt10fpsPct: Number(modelPct.toFixed(2)),
    loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
    cores: os.availableParallelism(),
    overheadPct: headline,
    targetPct: 2,
    met: headline < 2,
  }),
);
if (sink === 0.5) console.log(''); // keep the work observable
