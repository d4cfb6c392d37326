import { diffRuns, formatDiff, type DiffFormat } from '../../report/diff.ts';
import { openProject } from '../../runner/project.ts';
import type { Output } from '../output.ts';

/** What differs between two runs: spec, stage keys and why, metrics, paired test, commits, environment, timings. */
export async function diffCommand(refA: string, refB: string, options: { format: DiffFormat }, io: Output): Promise<number> {
  const project = openProject();
  const a = project.runs.resolve(refA);
  const b = project.runs.resolve(refB);
  io.out(formatDiff(await diffRuns(project, a, b), options.format));
  return 0;
}
