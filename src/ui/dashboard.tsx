import type { Instance } from 'ink';
import { RunEvents, type StampedEvent } from '../runner/events.ts';
import { DashboardView, layoutDashboard } from './DashboardView.tsx';
import { ink } from './ink.ts';
import { lineWidth } from './format.ts';
import { initialState, markStopping, reduce, type DashboardState, type DashboardStateOptions } from './state.ts';
import { systemSampler, type SystemSample } from './systemSampler.ts';
import { colorEnabled } from './theme.ts';

/** A live run's event bus, or events read back from a run's events.ndjson (`xp watch`). */
export type DashboardSource = RunEvents | AsyncIterable<StampedEvent>;

export interface DashboardOptions extends Partial<Pick<DashboardStateOptions, 'objectiveMode' | 'objectiveMetric'>> {
  stdout: NodeJS.WriteStream;
  /** Fixed size; by default the terminal's, following its resizes. */
  columns?: number;
  rows?: number;
  /** Default: on unless NO_COLOR / TERM=dumb. */
  color?: boolean;
  /** Sample this process's CPU and memory once a second (only meaningful where the stages run). */
  system?: boolean;
  /**
   * What "now" is for running stages' elapsed time: the wall clock (a live run) or the newest
   * event's time (a replay, which then looks exactly as it did). Default: wall for RunEvents.
   */
  clock?: 'wall' | 'events';
  /**
   * Frames per second at most; capped at 10. Fewer when frames are expensive (a slow or busy
   * machine): the pause between frames is at least 75× what the last frames took to draw, so
   * drawing stays under ~1.3% of the run's time; at most 3 s between frames.
   */
  maxFps?: number;
  /** Where the run's plots are (relative path), if it has any; asked once the run finished. */
  plotsDir?: (runId: string) => string | undefined;
  /** Called after each frame is handed to Ink (tests and the overhead bench count them). */
  onFrame?: (state: DashboardState) => void;
  /** Route console.* above the dashboard instead of through it (default: true). */
  patchConsole?: boolean;
}

export interface DashboardHandle {
  /** Draw the final frame and let go of the terminal; the last frame stays on screen. Idempotent. */
  stop(): void;
  /** Ctrl-C was pressed: show what is being stopped. */
  stopping(): void;
  readonly state: DashboardState;
  /** Resolves when a replayed stream has ended (at once for RunEvents, which the caller ends). */
  readonly ended: Promise<void>;
  /** What the dashboard has cost so far: frames drawn, ms drawing them, ms folding events. */
  stats(): DashboardStats;
}

export interface DashboardStats {
  frames: number;
  drawMs: number;
  /** Part of drawMs: the first frame, which pays for Ink's start-up. */
  firstFrameMs: number;
  foldMs: number;
  events: number;
}

const MAX_FPS = 10;
/** The pause between frames is at least this many times what a frame costs. */
const PAUSE_PER_FRAME_COST = 75;
const SLOWEST_FRAME_INTERVAL_MS = 3000;

/**
 * Folds events into state as they come (cheap), and draws at most `maxFps` times a second:
 * a burst of events is one frame, never one frame per event.
 */
export function startDashboard(source: DashboardSource, options: DashboardOptions): DashboardHandle {
  const { stdout } = options;
  const color = options.color ?? colorEnabled();
  const live = source instanceof RunEvents;
  const clock = options.clock ?? (live ? 'wall' : 'events');
  const minIntervalMs = 1000 / Math.min(MAX_FPS, Math.max(1, options.maxFps ?? MAX_FPS));
  const stats: DashboardStats = { frames: 0, drawMs: 0, firstFrameMs: 0, foldMs: 0, events: 0 };
  /** Moving average of what a frame costs (ms), for pacing. */
  let frameCost = 0;
  const sample = options.system ? systemSampler() : undefined;

  let state = initialState({ objectiveMode: options.objectiveMode, objectiveMetric: options.objectiveMetric });
  let system: SystemSample | undefined;
  let plotsDir: string | undefined;
  let plotsAsked = false;
  let instance: Instance | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastDraw = -Infinity;
  let stopped = false;
  /** Cell widths of the live lines last drawn, and the width they were drawn for. */
  let drawnWidths: number[] = [];
  let drawnFor = 0;

  const size = () => ({
    width: Math.max(20, options.columns ?? (stdout.columns || 100)),
    rows: Math.max(6, options.rows ?? (stdout.rows || 30)),
  });

  const now = () => {
    if (state.finished) return state.finished.at;
    if (clock === 'wall') return Math.max(Date.now(), state.lastEventAt ?? 0);
    return state.lastEventAt ?? 0;
  };

  const draw = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const started = performance.now();
    lastDraw = started;
    if (state.finished && state.runId && !plotsAsked) {
      plotsAsked = true;
      plotsDir = options.plotsDir?.(state.runId);
    }
    const { width, rows } = size();
    const props = { state, width, rows, now: now(), color, system, plotsDir };
    const layout = layoutDashboard(props);
    drawnWidths = layout.live.map(lineWidth);
    drawnFor = width;
    const element = <DashboardView {...props} layout={layout} />;
    if (instance) instance.rerender(element);
    else instance = ink().render(element, { stdout, exitOnCtrlC: false, patchConsole: options.patchConsole ?? true });
    const took = performance.now() - started;
    // The first frame also pays for Ink's start-up: a cautious first estimate.
    if (stats.frames === 0) stats.firstFrameMs = took;
    frameCost = stats.frames === 0 ? took : 0.8 * frameCost + 0.2 * took;
    stats.frames++;
    stats.drawMs += took;
    options.onFrame?.(state);
  };

  const schedule = () => {
    if (stopped || timer) return;
    // Recent cost adapts to the load; the mean keeps rare slow frames (GC, a busy machine) counted.
    const cost = Math.max(frameCost, stats.frames ? stats.drawMs / stats.frames : 0);
    const interval = Math.min(SLOWEST_FRAME_INTERVAL_MS, Math.max(minIntervalMs, cost * PAUSE_PER_FRAME_COST));
    const wait = Math.max(0, lastDraw + interval - performance.now());
    timer = setTimeout(draw, wait);
  };

  const apply = (event: StampedEvent) => {
    const started = performance.now();
    state = reduce(state, event);
    schedule();
    stats.foldMs += performance.now() - started;
    stats.events++;
  };

  // Runs before Ink's own resize handler (registered at the first render, after this one).
  const onResize = () => {
    if (stopped) return;
    const { width } = size();
    if (instance && width < drawnFor) stdout.write(eraseReflowed(drawnWidths, width));
    draw();
  };
  stdout.on('resize', onResize);

  const ticker =
    clock === 'wall' || sample
      ? setInterval(() => {
          if (sample) system = sample();
          if (!state.finished) schedule();
        }, 1000)
      : undefined;
  ticker?.unref();

  const unsubscribe = live ? source.on(apply) : undefined;
  draw();

  const ended = live
    ? Promise.resolve()
    : (async () => {
        try {
          for await (const event of source) {
            if (stopped) break;
            apply(event);
          }
        } finally {
          if (!stopped) draw();
        }
      })();

  return {
    get state() {
      return state;
    },
    ended,
    stats: () => ({ ...stats }),
    stopping() {
      state = markStopping(state);
      if (!stopped) draw();
    },
    stop() {
      if (stopped) return;
      draw();
      stopped = true;
      unsubscribe?.();
      if (ticker) clearInterval(ticker);
      stdout.off('resize', onResize);
      instance?.unmount();
    },
  };
}

/**
 * A terminal that gets narrower re-wraps ("reflows") the lines already on screen, so the last
 * frame now covers more rows than the ones Ink knows of and erases (its line count, from the
 * cursor up). Erase the extra rows from the bottom first and start Ink's erase that much
 * higher, so together they remove the whole old frame and nothing above it.
 */
export function eraseReflowed(lineWidths: number[], width: number): string {
  const rows = lineWidths.reduce((sum, w) => sum + Math.max(1, Math.ceil(w / width)), 0);
  const extra = rows - lineWidths.length;
  return extra > 0 ? '\u001b[2K\u001b[1A'.repeat(extra) : '';
}
