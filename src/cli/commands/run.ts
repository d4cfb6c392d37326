import { EXIT, UserError } from '../../errors.ts';
import { pipelineStages } from '../../registry/stages.ts';
import { gitState } from '../../runner/environment.ts';
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
  return (await runSpecs(files, options, io, argv)).exitCode;
}

/** `xp run`'s work, returning each run's result too (for `xp results`). */
export async function runSpecs(files: string[], options: RunCommandOptions, io: Output, argv: string[]): Promise<{ exitCode: number; results: RunResult[] }> {
  const project = openProject();
  // git runs in another process while the specs load; every run of this command records it.
  const git = gitState(project.root);
  const targets = files.length ? files : defaultSpecFiles(project.root);
  const loaded = loadSpecsOrThrow(targets, options.set, project.root, project.specCache);
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
        git,
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
  const exitCode =
    results.some((r) => r.record.status === 'interrupted') || controller.signal.aborted
      ? EXIT.interrupted
      : results.some((r) => r.badInput)
        ? EXIT.badInput
        : results.some((r) => r.record.status === 'failed')
          ? EXIT.runFailed
          : EXIT.ok;
  return { exitCode, results };
}

/** `--seeds 5` → seeds 1…5; `--seeds 3,7,11` → those seeds. As a `--set` override. */
export function seedsOverride(value: string): string {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    const n = Number(trimmed);
    if (n < 1) throw new UserError(`--seeds: need at least 1 seed, got ${value}`);
    return `seeds=[${Array.from({ length: n }, (_, i) => i + 1).join(',')}]`;
  }
  if (/^\d+(,\d+)+$/.test(trimmed)) return `seeds=[${trimmed}]`;
  throw new UserError(`--seeds: expected a count (5) or a list (1,2,3), got ${JSON.stringify(value)}`);
}

function summary({ record }: RunResult): string {
  const stages = Object.entries(record.stages);
  const cached = stages.filter(([, s]) => s.status === 'cached').length;
  const rows = stages.map(([id, s]) => [id, s.status, s.key?.slice(0, 12) ?? '–', formatDuration(s.durationMs)]);
  const metrics = headlineMetrics(record.metrics);
  return [
    '',
    `run ${record.id}: ${record.status} in ${formatDuration(record.durationMs)} (${cached}/${stages.length} stages from cache)`,
    stages.length ? table(['stage', 'status', 'key', 'time'], rows) : 'no stages in this plan',
    ...(metrics.length ? ['metrics (all of them: xp show ' + record.id + '):', ...metrics] : []),
    ...(record.warnings.length ? ['warnings:', ...record.warnings.map((w) => `  ${w}`)] : []),
    `record: runs/${record.id}/run.json`,
  ].join('\n');
}

/**
 * The numbers worth a glance at the end of a run: test metrics with their intervals, then
 * training/search outcomes. Everything else is in the record (`xp show`).
 */
function headlineMetrics(metrics: Record<string, number>): string[] {
  const lines: string[] = [];
  const format = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(4));
  for (const [name, value] of Object.entries(metrics)) {
    if (!/^(eval\.(accuracy|precision|recall|f1|roc_auc)|seeds\.(accuracy|precision|recall|f1|roc_auc)_mean|train\.(epochs|val_f1|val_accuracy)|search\.(best_objective|trials_done|trials_failed))$/.test(name)) continue;
    const base = name.replace(/_mean$/, '');
    const sd = name.endsWith('_mean') ? metrics[`${base}_sd`] : undefined;
    const lo = metrics[`${base}_lo`];
    const hi = metrics[`${base}_hi`];
    lines.push(`  ${name} = ${format(value)}${sd !== undefined ? ` ± ${format(sd)}` : ''}${lo !== undefined && hi !== undefined ? ` [${format(lo)}, ${format(hi)}]` : ''}`);
  }
  if (lines.length === 0) {
    for (const [name, value] of Object.entries(metrics).slice(0, 12)) lines.push(`  ${name} = ${format(value)}`);
  }
  return lines;
}
