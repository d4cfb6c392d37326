import { buildRunReport, formatRunReport, type ReportFormat } from '../../report/reportMd.ts';
import { openProject } from '../../runner/project.ts';
import type { Output } from '../output.ts';

/** One run as a report for a pull request: Table 1 row, metrics with intervals, confusion matrix, warnings, plots. */
export function reportCommand(ref: string, options: { format: ReportFormat }, io: Output): number {
  const project = openProject();
  const record = project.runs.resolve(ref);
  io.out(formatRunReport(buildRunReport(project, record), options.format));
  return 0;
}
