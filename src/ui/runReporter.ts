import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Output } from '../cli/output.ts';
import { plainReporter } from '../report/plainReporter.ts';
import type { RunEvents } from '../runner/events.ts';
import type { DashboardHandle, startDashboard as StartDashboard } from './dashboard.tsx';

/**
 * How `xp run` shows a run: the Ink dashboard on an interactive terminal, plain timestamped
 * lines on stderr otherwise (pipes, CI, TERM=dumb), NDJSON on stdout with --json. Ctrl-C
 * messages go through it too, so they land inside the dashboard instead of tearing it.
 */
export interface RunReporter {
  /** Show one spec's run (call before it starts). */
  attach(events: RunEvents, spec: unknown): void;
  /** That run is over: the dashboard draws its final frame and lets go of the terminal. */
  detach(): void;
  /** First Ctrl-C. */
  stopping(): void;
  /** Second Ctrl-C, just before the process exits. */
  forced(): void;
  /** The dashboard ends with its own summary; the plain reporters need the command's. */
  readonly printsSummary: boolean;
}

export interface RunReporterOptions {
  json: boolean;
  /** Project root, to point at runs/<id>/plots/ when a run made plots. */
  root: string;
  env?: NodeJS.ProcessEnv;
  /** Where the dashboard draws (default process.stdout, the stream `io.isTTY` describes). */
  stdout?: NodeJS.WriteStream;
}

export const STOPPING_MESSAGE =
  'stopping: aborting running stages; finished stages stay cached. Run the same command again to resume. (Ctrl-C again to force)';

/** Same test as Ink's: a CI log cannot take cursor movement. */
export function inCi(env: NodeJS.ProcessEnv): boolean {
  const set = (key: string) => key in env && env[key] !== '0' && env[key] !== 'false';
  return set('CI') || set('CONTINUOUS_INTEGRATION');
}

export function wantsDashboard(io: Output, options: Pick<RunReporterOptions, 'json' | 'env'>): boolean {
  const env = options.env ?? process.env;
  return io.isTTY && !options.json && !inCi(env) && env.TERM !== 'dumb';
}

/** The search objective from a resolved spec, for ranking trials (`search.objective`). */
export function objectiveOf(spec: unknown): { objectiveMetric?: string; objectiveMode?: 'max' | 'min' } {
  const objective = (spec as { search?: { objective?: { metric?: unknown; mode?: unknown } } } | null)?.search?.objective;
  return {
    objectiveMetric: typeof objective?.metric === 'string' ? objective.metric : undefined,
    objectiveMode: objective?.mode === 'min' || objective?.mode === 'max' ? objective.mode : undefined,
  };
}

export function plotsDirOf(root: string): (runId: string) => string | undefined {
  return (runId) => (existsSync(path.join(root, 'runs', runId, 'plots')) ? `runs/${runId}/plots/` : undefined);
}

/** Async because the dashboard (ink, react) is only loaded when it will be shown. */
export async function createRunReporter(io: Output, options: RunReporterOptions): Promise<RunReporter> {
  if (!wantsDashboard(io, options)) return plainRunReporter(io, options.json);
  const [{ startDashboard }, { loadInk }] = await Promise.all([import('./dashboard.tsx'), import('./ink.ts')]);
  await loadInk();
  return dashboardReporter(options, startDashboard);
}

function plainRunReporter(io: Output, json: boolean): RunReporter {
  let unsubscribe: (() => void) | undefined;
  return {
    printsSummary: false,
    attach(events) {
      unsubscribe = events.on(json ? (event) => io.out(JSON.stringify(event)) : plainReporter(io.err));
    },
    detach() {
      unsubscribe?.();
      unsubscribe = undefined;
    },
    stopping: () => io.err(STOPPING_MESSAGE),
    forced: () => io.err('forced exit'),
  };
}

function dashboardReporter(options: RunReporterOptions, startDashboard: typeof StartDashboard): RunReporter {
  const stdout = options.stdout ?? process.stdout;
  let dashboard: DashboardHandle | undefined;
  return {
    printsSummary: true,
    attach(events, spec) {
      dashboard?.stop();
      dashboard = startDashboard(events, { stdout, system: true, plotsDir: plotsDirOf(options.root), ...objectiveOf(spec) });
    },
    detach() {
      dashboard?.stop();
      dashboard = undefined;
    },
    stopping() {
      if (dashboard) dashboard.stopping();
      else process.stderr.write(STOPPING_MESSAGE + '\n');
    },
    forced() {
      dashboard?.stop();
      dashboard = undefined;
      process.stderr.write('forced exit\n');
    },
  };
}
