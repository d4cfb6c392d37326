import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Output } from '../cli/output.ts';
import { EXIT } from '../errors.ts';
import { plainReporter } from '../report/plainReporter.ts';
import { openProject } from '../runner/project.ts';
import type { RunRecord, RunStore } from '../runner/runStore.ts';
import { processAlive } from '../util/processAlive.ts';
import { startDashboard } from './dashboard.tsx';
import { endSummaryLines } from './EndSummary.tsx';
import { EventTail } from './follow.ts';
import { loadInk } from './ink.ts';
import { lineText } from './format.ts';
import { objectiveOf, plotsDirOf, wantsDashboard } from './runReporter.ts';
import { initialState, reduce } from './state.ts';

export interface WatchOptions {
  json: boolean;
  /** How often to look for new events when the file system sends no notice. */
  pollMs?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * `xp watch <run>`: follow a run's events.ndjson from another terminal, with the same
 * dashboard `xp run` shows (plain lines when not a terminal, the raw NDJSON with --json).
 * Exits 0 once the run has finished (at once for a finished run, after drawing it), 1 when
 * the run's process is gone without finishing, 130 on Ctrl-C (the run itself goes on).
 */
export async function watchCommand(ref: string, options: WatchOptions, io: Output): Promise<number> {
  const project = openProject();
  const record = project.runs.resolve(ref);
  const controller = new AbortController();
  const tail = new EventTail(path.join(project.runs.runDir(record.id), 'events.ndjson'), {
    signal: controller.signal,
    pollMs: options.pollMs,
    writerAlive: () => stillRunning(project.runs, record),
  });
  const onSignal = () => controller.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    if (options.json) {
      for await (const { line } of tail.records()) io.out(line);
    } else if (wantsDashboard(io, options)) {
      await loadInk();
      const dashboard = startDashboard(tail, {
        stdout: process.stdout,
        clock: record.status === 'running' ? 'wall' : 'events',
        plotsDir: plotsDirOf(project.root),
        ...objectiveOf(record.resolvedSpec),
      });
      try {
        await dashboard.ended;
      } finally {
        dashboard.stop();
      }
    } else {
      const print = plainReporter(io.out);
      let state = initialState(objectiveOf(record.resolvedSpec));
      for await (const event of tail) {
        print(event);
        state = reduce(state, event);
      }
      if (state.finished) {
        const stages = state.order.map((id) => state.stages[id]);
        const { status, durationMs, metrics } = state.finished;
        const lines = endSummaryLines({ runId: record.id, status, durationMs, metrics, stages, plotsDir: plotsDirOf(project.root)(record.id), width: Infinity });
        for (const line of lines) io.out(lineText(line));
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (tail.skipped) io.err(`warning: ${tail.skipped} unreadable line${tail.skipped === 1 ? '' : 's'} in runs/${record.id}/events.ndjson skipped`);
  switch (tail.end) {
    case 'aborted':
      io.err(`stopped watching ${record.id}; the run itself goes on`);
      return EXIT.interrupted;
    case 'writer-gone':
      io.err(
        `run ${record.id} never finished: its process (pid ${record.pid} on ${record.host}) is gone, so the run is interrupted. ` +
          'Run the same command again to resume; finished stages come from the cache.',
      );
      return EXIT.runFailed;
    default:
      return EXIT.ok;
  }
}

/**
 * Whether the run's process may still append events: its record still says running and, on
 * this host, its pid is alive (the same test RunStore applies when listing runs). A run on
 * another host is assumed alive.
 */
function stillRunning(runs: RunStore, record: RunRecord): boolean {
  let current: RunRecord;
  try {
    current = JSON.parse(readFileSync(path.join(runs.runDir(record.id), 'run.json'), 'utf8')) as RunRecord;
  } catch {
    return true; // being rewritten (atomically) right now
  }
  if (current.status !== 'running') return false;
  return current.host !== hostname() || processAlive(current.pid);
}
