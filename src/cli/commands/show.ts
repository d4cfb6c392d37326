import { openProject } from '../../runner/project.ts';
import { formatDuration, table, type Output } from '../output.ts';
import { shortCommit } from './ls.ts';

export function showCommand(ref: string, options: { json: boolean }, io: Output): number {
  const record = openProject().runs.resolve(ref);
  if (options.json) {
    io.out(JSON.stringify(record, null, 2));
    return 0;
  }
  const env = record.environment;
  const lines = [
    `run      ${record.id}`,
    `spec     ${record.spec} (${record.specFiles.join(' ← ')})${record.overrides.length ? ` with ${record.overrides.map((o) => `--set ${o}`).join(' ')}` : ''}`,
    `status   ${record.status}, ${formatDuration(record.durationMs)}, started ${record.createdAt}`,
    `command  ${record.command.join(' ')}`,
    `git      ${shortCommit(record)}${record.git.branch ? ` on ${record.git.branch}` : ''}${record.git.dirty ? ` (dirty, diff ${record.git.diffHash?.slice(0, 12)})` : ''}`,
    `machine  node ${env.node}, ${env.os}, ${env.cpus}× ${env.cpu}, ${env.memoryGiB} GiB`,
    '',
    table(
      ['stage', 'status', 'key', 'time', 'error'],
      Object.entries(record.stages).map(([id, s]) => [id, s.status, s.key?.slice(0, 12) ?? '–', formatDuration(s.durationMs), (s.error ?? '').split('\n')[0]]),
    ),
  ];
  const metrics = Object.entries(record.metrics);
  if (metrics.length) {
    lines.push('', 'metrics:', ...metrics.map(([k, v]) => `  ${k} = ${Number.isInteger(v) ? v : v.toFixed(4)}`));
  }
  if (record.warnings.length) lines.push('', 'warnings:', ...record.warnings.map((w) => `  ${w}`));
  io.out(lines.join('\n'));
  return 0;
}
