import { openProject } from '../../runner/project.ts';
import type { RunRecord } from '../../runner/runStore.ts';
import { table, type Output } from '../output.ts';

/** The metric shown in `xp ls`: test accuracy when there is one, else the first metric. */
export function headlineMetric(record: RunRecord): string {
  const preferred = ['seeds.accuracy_mean', 'eval.accuracy', 'eval.f1', 'search.best_objective'];
  const name = preferred.find((m) => m in record.metrics) ?? Object.keys(record.metrics)[0];
  if (!name) return '–';
  const value = record.metrics[name];
  return `${name.split('.').pop()}=${Number.isInteger(value) ? value : value.toFixed(4)}`;
}

export function shortCommit(record: RunRecord): string {
  if (!record.git.commit) return '–';
  return record.git.commit.slice(0, 8) + (record.git.dirty ? '*' : '');
}

export function lsCommand(options: { json: boolean; spec?: string }, io: Output): number {
  const runs = openProject().runs.list().filter((r) => !options.spec || r.spec === options.spec);
  if (options.json) {
    io.out(
      JSON.stringify(
        runs.map((r) => ({ id: r.id, spec: r.spec, status: r.status, metrics: r.metrics, commit: r.git.commit, dirty: r.git.dirty, createdAt: r.createdAt, durationMs: r.durationMs ?? null })),
        null,
        2,
      ),
    );
    return 0;
  }
  if (runs.length === 0) {
    io.out('no runs yet: start one with `xp run experiments/<spec>.yaml`');
    return 0;
  }
  io.out(
    table(
      ['id', 'spec', 'status', 'headline', 'commit', 'date'],
      runs.map((r) => [r.id, r.spec, r.status, headlineMetric(r), shortCommit(r), r.createdAt.replace('T', ' ').slice(0, 19)]),
    ),
  );
  return 0;
}
