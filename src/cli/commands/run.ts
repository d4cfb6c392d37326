import { EXIT } from '../../errors.ts';
import { pipelineStages } from '../../registry/stages.ts';
import { RunEvents } from '../../runner/events.ts';
import { openProject } from '../../runner/project.ts';
import { runExperiment, type RunResult } from '../../runner/run.ts';
import type { Stage } from '../../stages/stage.ts';
import { createRunReporter } from '../../ui/runReporter.ts';
import { formatDuration, table, type Output } from '../output.ts';
import { defaultSpecFiles, loadSpecsOrThrow } from '../specArgs.ts';

export interface RunCommandOptions {
  set: string[];
  json: boolean;
  concurrency?: number;
  /** For tests: run a pipeline of their own stages. */
  stages?: readonly Stage[];
}

/**
 * Run one or more specs, one after another. The first Ctrl-C stops gracefully (running
 * stages are aborted, finished ones stay cached, the record says "interrupted"); a second
 * one exits at once.
 */
export async function runCommand(files: string[], options: RunCommandOptions, io: Output, argv: string[]): Promise<number> {
  const project = openProject();
  const targets = files.length ? files : defaultSpecFiles(project.root);
  const loaded = loadSpecsOrThrow(targets, options.set, project.root);
  const controller = new AbortController();
  // TTY and not --json: the Ink dashboard; otherwise plain lines on stderr / NDJSON on stdout.
  const reporter = await createRunReporter(io, { json: options.json, root: project.root });
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts > 1) {
      reporter.forced();
      process.exit(EXIT.interrupted);
    }
    reporter.stopping();
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const results: RunResult[] = [];
  try {
    for (const spec of loaded) {
      if (controller.signal.aborted) break;
      const events = new RunEvents();
      reporter.attach(events, spec.spec);
      const result = await runExperiment({
        project,
        loaded: spec,
        stages: options.stages ?? pipelineStages,
        events,
        signal: controller.signal,
        command: ['xp', ...argv],
        concurrency: options.concurrency,
      });
      reporter.detach();
      results.push(result);
      if (!options.json && !reporter.printsSummary) io.out(summary(result));
    }
  } finally {
    reporter.detach();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (results.some((r) => r.record.status === 'interrupted') || controller.signal.aborted) return EXIT.interrupted;
  if (results.some((r) => r.badInput)) return EXIT.badInput;
  if (results.some((r) => r.record.status === 'failed')) return EXIT.runFailed;
  return EXIT.ok;
}

function summary({ record }: RunResult): string {
  const stages = Object.entries(record.stages);
  const cached = stages.filter(([, s]) => s.status === 'cached').length;
  const rows = stages.map(([id, s]) => [id, s.status, s.key?.slice(0, 12) ?? '–', formatDuration(s.durationMs)]);
  const metrics = Object.entries(record.metrics).map(([name, value]) => `  ${name} = ${Number.isInteger(value) ? value : value.toFixed(4)}`);
  return [
    '',
    `run ${record.id}: ${record.status} in ${formatDuration(record.durationMs)} (${cached}/${stages.length} stages from cache)`,
    stages.length ? table(['stage', 'status', 'key', 'time'], rows) : 'no stages in this plan',
    ...(metrics.length ? ['metrics:', ...metrics] : []),
    ...(record.warnings.length ? ['warnings:', ...record.warnings.map((w) => `  ${w}`)] : []),
    `record: runs/${record.id}/run.json`,
  ].join('\n');
}
