import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';

// Ink reads CI once, when it loads, and then draws only a final frame. These tests watch the
// live frames, so they must see an interactive terminal even when the suite runs in CI.
vi.hoisted(() => {
  process.env.CI = 'false';
});

import { RunEvents, type StampedEvent } from '../../src/runner/events.ts';
import { startDashboard } from '../../src/ui/dashboard.tsx';
import { loadInk } from '../../src/ui/ink.ts';
import { finishedRun, midRun } from './events.ts';

await loadInk();

/** A terminal stand-in: records what Ink writes; size can change like a real one's. */
class FakeTerminal extends EventEmitter {
  writes: string[] = [];
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  write(chunk: string): boolean {
    this.writes.push(String(chunk));
    return true;
  }
  /** Everything written, escape sequences removed. */
  text(): string {
    return this.writes.join('').replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
  }
  /** The newest frame: the last write that had text in it. */
  lastFrame(): string {
    const frames = this.writes.map((w) => w.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '')).filter((w) => w.trim());
    return frames[frames.length - 1] ?? '';
  }
  resize(columns: number): void {
    this.columns = columns;
    this.emit('resize');
  }
  asStream(): NodeJS.WriteStream {
    return this as unknown as NodeJS.WriteStream;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function* replay(events: StampedEvent[]): AsyncGenerator<StampedEvent> {
  for (const event of events) yield event;
}

describe('startDashboard', () => {
  it('coalesces a burst of events into at most 10 frames a second', async () => {
    const terminal = new FakeTerminal(100, 30);
    const events = new RunEvents();
    let frames = 0;
    const dashboard = startDashboard(events, { stdout: terminal.asStream(), color: false, patchConsole: false, onFrame: () => frames++ });
    events.emit({ type: 'run-started', runId: 'r', spec: 'toy', stages: [{ id: 'train', needs: [] }] });
    events.emit({ type: 'stage-status', stage: 'train', status: 'running' });
    const start = Date.now();
    let emitted = 0;
    // ~1 s of events, 20 per millisecond-ish, yielding to the event loop between slices.
    while (Date.now() - start < 1_000) {
      for (let i = 0; i < 20; i++) events.emit({ type: 'metrics', stage: 'train', step: ++emitted, series: 'epoch', values: { loss: 1 / emitted } });
      await sleep(1);
    }
    const elapsed = Date.now() - start;
    dashboard.stop();
    expect(emitted).toBeGreaterThan(1_000);
    // One initial frame, ≤ 10 per second while events arrived (fewer when frames are slow
    // to draw: the pause is ≥ 75× a frame's cost), one final frame on stop.
    expect(frames).toBeLessThanOrEqual(2 + Math.ceil(elapsed / 100));
    expect(frames).toBeGreaterThanOrEqual(2);
    const stats = dashboard.stats();
    expect(stats.frames).toBe(frames);
    expect(stats.events).toBe(emitted + 2);
    expect(dashboard.state.series[dashboard.state.latestSeries!].lastStep).toBe(emitted);
    expect(terminal.lastFrame()).toContain(`epoch ${emitted}`);
  });

  it('replays a finished run from a stream: finished stages are written once (Static), then the summary', async () => {
    const terminal = new FakeTerminal(100, 30);
    let frames = 0;
    const dashboard = startDashboard(replay(finishedRun()), { stdout: terminal.asStream(), color: false, patchConsole: false, onFrame: () => frames++ });
    await dashboard.ended;
    dashboard.stop();
    expect(dashboard.state.finished?.status).toBe('done');
    expect(frames).toBeLessThanOrEqual(4);
    const all = terminal.text();
    for (const stage of ['ingest', 'features', 'train', 'eval']) expect(all.match(new RegExp(`✓ ${stage} `, 'g')), stage).toHaveLength(1);
    expect(all).toMatch(/run 20260301-120000-cnn-lstm-3f2a done in 41\.7s · 1 of 4 stages from cache/);
    // Replayed time: the elapsed time shown is the run's own, not the wall clock's.
    expect(all).toContain('xp · cnn-lstm · run 20260301-120000-cnn-lstm-3f2a · 41.7s');
  });

  it('follows a resize: the next frame fits the narrower terminal', async () => {
    const terminal = new FakeTerminal(100, 30);
    const dashboard = startDashboard(replay(midRun()), { stdout: terminal.asStream(), color: false, patchConsole: false });
    await dashboard.ended;
    await sleep(150);
    expect(terminal.lastFrame()).toContain('after features'); // a column shown only when wide
    terminal.resize(60);
    await sleep(250);
    const frame = terminal.lastFrame();
    expect(frame).toContain('▸ train');
    expect(frame).not.toContain('after features');
    for (const line of frame.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(60);
    dashboard.stop();
  });

  it('shows what Ctrl-C is stopping at once', async () => {
    const terminal = new FakeTerminal(100, 30);
    const dashboard = startDashboard(replay(midRun()), { stdout: terminal.asStream(), color: false, patchConsole: false });
    await dashboard.ended;
    dashboard.stopping();
    expect(terminal.lastFrame()).toMatch(/stopping: train \(running\) … finished stages stay cached; run the same command again to resume;\s+Ctrl-C again to force/);
    dashboard.stop();
  });

  it('after stop, events no longer draw', async () => {
    const terminal = new FakeTerminal(100, 30);
    const events = new RunEvents();
    const dashboard = startDashboard(events, { stdout: terminal.asStream(), color: false, patchConsole: false });
    dashboard.stop();
    const written = terminal.writes.length;
    events.emit({ type: 'log', level: 'warn', message: 'late' });
    await sleep(150);
    expect(terminal.writes.length).toBe(written);
  });
});
