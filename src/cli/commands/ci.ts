import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { changedSpecs, materializeExperimentsAt } from '../../ci/changedSpecs.ts';
import { EXIT } from '../../errors.ts';
import { pipelineStages } from '../../registry/stages.ts';
import { diffRuns, formatDiff } from '../../report/diff.ts';
import { plainReporter } from '../../report/plainReporter.ts';
import { buildRunReport, formatRunReport } from '../../report/reportMd.ts';
import { RunEvents } from '../../runner/events.ts';
import { openProject, type Project } from '../../runner/project.ts';
import { runExperiment, type RunResult } from '../../runner/run.ts';
import type { Output } from '../output.ts';
import { loadSpecsOrThrow } from '../specArgs.ts';

/**
 * Pull-request review, as CML does it: run the experiments this change touches, run each one
 * as it was at the base commit too (the base version of the spec, with this checkout's code and
 * the shared cache, so unchanged stages are reused), and write a markdown report — the diff
 * against the base run with a paired-test verdict, then the new run's own report — for the
 * workflow to post as a comment (.github/workflows/xp.yml).
 */
export async function ciCommand(options: { base: string; out: string }, io: Output, argv: string[]): Promise<number> {
  const project = openProject();
  const { baseCommit, changed } = await changedSpecs(project.root, options.base);
  const sections: string[] = [`## xp: experiments changed since \`${baseCommit.slice(0, 8)}\``, ''];
  let exit: number = EXIT.ok;
  if (changed.length === 0) sections.push('No experiment under `experiments/` changed.');
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const baseDir = changed.length ? await materializeExperimentsAt(project.root, baseCommit) : '';

  for (const file of changed) {
    const [head] = loadSpecsOrThrow([file], [], project.root);
    const headRun = await execute(project, head, controller.signal, io, [...argv, file]);
    const baseFile = path.join(baseDir, file);
    let baseRun: RunResult | undefined;
    if (existsSync(baseFile)) {
      const [base] = loadSpecsOrThrow([path.relative(project.root, baseFile)], [], project.root);
      baseRun = await execute(project, base, controller.signal, io, [...argv, `${baseCommit.slice(0, 8)}:${file}`]);
    }
    sections.push(`### \`${file}\``, '');
    if (baseRun) {
      sections.push(formatDiff(await diffRuns(project, baseRun.record, headRun.record), 'md'), '');
    } else {
      sections.push(`New experiment (not in \`${baseCommit.slice(0, 8)}\`).`, '');
    }
    sections.push(formatRunReport(buildRunReport(project, headRun.record, path.dirname(path.resolve(project.root, options.out))), 'md'), '');
    for (const result of [headRun, baseRun]) {
      if (!result) continue;
      if (result.badInput) exit = Math.max(exit, EXIT.badInput);
      else if (result.record.status !== 'done') exit = Math.max(exit, EXIT.runFailed);
    }
  }
  const report = sections.join('\n').trimEnd() + '\n';
  writeFileSync(path.resolve(project.root, options.out), report);
  io.out(report);
  io.err(`report written to ${options.out}`);
  return exit;
}

async function execute(
  project: Project,
  loaded: ReturnType<typeof loadSpecsOrThrow>[number],
  signal: AbortSignal,
  io: Output,
  command: string[],
): Promise<RunResult> {
  const events = new RunEvents();
  events.on(plainReporter(io.err));
  return runExperiment({ project, loaded, stages: pipelineStages, events, signal, command: ['xp', ...command] });
}
