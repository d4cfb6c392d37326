/**
 * `xp report <run>`: one run as a comment-ready report — its Table 1 row beside the paper's,
 * every test metric with its interval, the confusion matrix, per-split counts, the speakers
 * the model gets most wrong, warnings, and links to the run's plots (runs/<id>/plots/*.svg).
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { evaluate, type EvalReport } from '../eval/evaluate.ts';
import { METRIC_NAMES, type Confusion, type MetricName, type SpeakerAccuracy } from '../eval/metrics.ts';
import { formatDuration, table } from '../cli/output.ts';
import type { Project } from '../runner/project.ts';
import type { RunRecord } from '../runner/runStore.ts';
import { markdownTable } from './diff.ts';
import { evalArtifacts, evalSettings, percentWithInterval, readPredictions, splitOf } from './runFacts.ts';
import { formatTable1, table1Entries, type Table1Entry } from './table1.ts';

export interface RunReport {
  run: {
    id: string;
    spec: string;
    specFiles: string[];
    overrides: string[];
    status: string;
    createdAt: string;
    durationMs: number | null;
    commit: string | null;
    dirty: boolean;
  };
  table1: Table1Entry;
  /** A multi-seed run: each metric across seeds, and each seed's test accuracy / F1. */
  seeds: {
    metrics: { name: MetricName; mean: number; sd: number | null; lo: number | null; hi: number | null }[];
    perSeed: { seed: number; accuracy: number | null; f1: number | null }[];
  } | null;
  /** Where the eval numbers came from. */
  evalSource: 'eval artifact' | 'recomputed from predictions.csv' | 'run record' | 'none';
  metrics: { name: MetricName; value: number | null; lo: number | null; hi: number | null }[];
  confidence: number;
  bootstrap: { resamples: number; skipped: number; unit: string } | null;
  confusion: Confusion | null;
  splits: { split: string; clips: number | null; speakers: number | null }[];
  worstSpeakers: SpeakerAccuracy[];
  testSpeakers: number | null;
  otherMetrics: { name: string; value: number }[];
  warnings: string[];
  /** Plot files, relative to the directory the report is meant to be read from. */
  plots: { name: string; path: string }[];
}

export type ReportFormat = 'md' | 'text' | 'json';

const WORST_SPEAKERS = 5;
const FEW_SPEAKERS = 30;

/**
 * @param linksFrom directory the plot links are made relative to (default: the project root,
 *   so a report pasted from the repository's root links `runs/<id>/plots/<name>.svg`).
 */
export function buildRunReport(project: Project, record: RunRecord, linksFrom = project.root): RunReport {
  const settings = evalSettings(record);
  const split = splitOf(record);
  const artifacts = evalArtifacts(project.cache, record);
  let report: EvalReport | null = artifacts?.report ?? null;
  let evalSource: RunReport['evalSource'] = report ? 'eval artifact' : 'none';
  if (!report) {
    const predictions = readPredictions(artifacts);
    if (predictions && predictions.length) {
      report = evaluate({
        clips: predictions,
        probabilities: predictions.map((p) => p.pMale),
        positiveClass: settings.positiveClass,
        bootstrap: settings.bootstrap,
        confidence: settings.confidence,
        seed: settings.seed,
        splitBy: split ?? 'speaker',
      });
      evalSource = 'recomputed from predictions.csv';
    }
  }
  const m = record.metrics;
  const metrics = METRIC_NAMES.map((name) =>
    report
      ? { name, ...report.metrics[name] }
      : { name, value: m[`eval.${name}`] ?? null, lo: m[`eval.${name}_lo`] ?? null, hi: m[`eval.${name}_hi`] ?? null },
  );
  if (!report && metrics.some((x) => x.value !== null)) evalSource = 'run record';
  const confusion: Confusion | null = report?.confusion
    ?? (['tp', 'fp', 'tn', 'fn'].every((k) => typeof m[`eval.${k}`] === 'number')
      ? { tp: m['eval.tp'], fp: m['eval.fp'], tn: m['eval.tn'], fn: m['eval.fn'], labels: { positive: settings.positiveClass, negative: settings.positiveClass === 'male' ? 'female' : 'male' } }
      : null);
  const bootstrap = report
    ? { resamples: report.bootstrap.resamples, skipped: report.bootstrap.skipped, unit: report.bootstrap.unit }
    : typeof m['eval.bootstrap_resamples'] === 'number'
      ? { resamples: m['eval.bootstrap_resamples'], skipped: m['eval.bootstrap_skipped'] ?? 0, unit: split === 'clip' ? 'clip' : 'speaker' }
      : null;
  const testSpeakers = report?.speakers ?? m['eval.speakers'] ?? null;

  const splits = ['train', 'val', 'test']
    .filter((s) => `ingest.${s}_clips` in m || `ingest.${s}_speakers` in m)
    .map((s) => ({ split: s, clips: m[`ingest.${s}_clips`] ?? null, speakers: m[`ingest.${s}_speakers`] ?? null }));

  const seedIds = Object.keys(record.stages).filter((id) => id.startsWith('eval@'));
  const seeds: RunReport['seeds'] =
    typeof m['seeds.seeds'] === 'number'
      ? {
          metrics: METRIC_NAMES.filter((name) => typeof m[`seeds.${name}_mean`] === 'number').map((name) => ({
            name,
            mean: m[`seeds.${name}_mean`],
            sd: m[`seeds.${name}_sd`] ?? null,
            lo: m[`seeds.${name}_lo`] ?? null,
            hi: m[`seeds.${name}_hi`] ?? null,
          })),
          perSeed: seedIds.map((id) => ({ seed: Number(id.slice('eval@'.length)), accuracy: m[`${id}.accuracy`] ?? null, f1: m[`${id}.f1`] ?? null })),
        }
      : null;

  const warnings = [...record.warnings];
  if (seeds && seedIds.length) warnings.push(`test metrics, confusion matrix and speakers below are from the first seed's predictions (${seedIds[0]}); the across-seeds table summarises all ${seedIds.length}`);
  if (record.status !== 'done') warnings.push(`the run is ${record.status}: numbers may be missing or partial`);
  if (evalSource === 'none') warnings.push('no eval results in this run');
  if (bootstrap && bootstrap.resamples === 0) warnings.push('eval.bootstrap is 0: no confidence intervals');
  if (bootstrap && bootstrap.skipped > 0) {
    warnings.push(`${bootstrap.skipped} of ${bootstrap.resamples} bootstrap resamples held one class only and were skipped`);
  }
  if (testSpeakers !== null && testSpeakers < FEW_SPEAKERS) {
    warnings.push(`only ${testSpeakers} test speakers: intervals are wide and a few voices decide the result`);
  }
  if (split === 'clip') warnings.push('split by clip: test speakers may also be in training, which flatters accuracy on new voices');

  const plotsDir = path.join(project.runs.runDir(record.id), 'plots');
  let plotFiles: string[] = [];
  try {
    plotFiles = readdirSync(plotsDir).filter((f) => f.endsWith('.svg')).sort();
  } catch {
    /* no plots */
  }
  const plots = plotFiles.map((f) => ({
    name: f.slice(0, -'.svg'.length),
    path: path.relative(linksFrom, path.join(plotsDir, f)).split(path.sep).join('/'),
  }));

  return {
    run: {
      id: record.id,
      spec: record.spec,
      specFiles: record.specFiles,
      overrides: record.overrides,
      status: record.status,
      createdAt: record.createdAt,
      durationMs: record.durationMs ?? null,
      commit: record.git.commit,
      dirty: record.git.dirty,
    },
    table1: table1Entries([record], project.cache)[0],
    seeds,
    evalSource,
    metrics,
    confidence: report?.confidence ?? settings.confidence,
    bootstrap,
    confusion,
    splits,
    worstSpeakers: (report?.perSpeaker ?? []).slice(0, WORST_SPEAKERS),
    testSpeakers,
    otherMetrics: Object.entries(m)
      .filter(([name]) => !/^(eval[.@]|ingest\.|seeds\.)/.test(name))
      .map(([name, value]) => ({ name, value })),
    warnings,
    plots,
  };
}

export function formatRunReport(report: RunReport, format: ReportFormat): string {
  if (format === 'json') return JSON.stringify(report, null, 2);
  const md = format === 'md';
  const out: string[] = [];
  const heading = (text: string) => out.push('', md ? `### ${text}` : text, ...(md ? [''] : []));
  const grid = (header: string[], rows: string[][]) =>
    out.push(md ? markdownTable(header, rows) : table(header, rows).split('\n').map((l) => `  ${l}`).join('\n'));
  const r = report.run;
  const commit = r.commit ? `${r.commit.slice(0, 8)}${r.dirty ? ' (dirty)' : ''}` : 'no git commit';
  const overrides = r.overrides.length ? ` with ${r.overrides.map((o) => `--set ${o}`).join(' ')}` : '';
  if (md) {
    out.push(`## xp report: \`${r.id}\` (${r.spec})`, '');
    out.push(`${r.status} · ${formatDuration(r.durationMs ?? undefined)} · commit ${commit} · ${r.createdAt}  `);
    out.push(`spec ${r.specFiles.map((f) => `\`${f}\``).join(' ← ')}${overrides}`);
  } else {
    out.push(`run     ${r.id} (${r.spec})`, `status  ${r.status}, ${formatDuration(r.durationMs ?? undefined)}, commit ${commit}, ${r.createdAt}`);
    out.push(`spec    ${r.specFiles.join(' ← ')}${overrides}`);
  }

  heading('Table 1');
  out.push(formatTable1([report.table1], md ? 'md' : 'text'));

  const level = `${Math.round(report.confidence * 1000) / 10}%`;
  if (report.seeds) {
    const pct = (x: number | null) => (x === null ? '–' : (x * 100).toFixed(1));
    heading(`Across ${report.seeds.perSeed.length} seeds (mean ± sd, ${level} t interval of the mean)`);
    grid(['metric', 'mean', 'sd', `${level} interval`], report.seeds.metrics.map((x) => [x.name, pct(x.mean), pct(x.sd), x.lo !== null && x.hi !== null ? `[${pct(x.lo)}, ${pct(x.hi)}]` : '–']));
    out.push('');
    grid(['seed', 'accuracy', 'F1'], report.seeds.perSeed.map((x) => [String(x.seed), pct(x.accuracy), pct(x.f1)]));
  }
  const how = report.bootstrap
    ? `${level} percentile bootstrap over ${report.bootstrap.unit}s, ${report.bootstrap.resamples} resamples${report.bootstrap.skipped ? `, ${report.bootstrap.skipped} skipped` : ''}`
    : 'no intervals';
  heading(`Test metrics (${how}; ${report.evalSource})`);
  grid(
    ['metric', 'value', `${level} interval`],
    report.metrics.map((x) => [
      x.name,
      percentWithInterval(x.value, null, null),
      x.lo !== null && x.hi !== null ? `[${(x.lo * 100).toFixed(1)}, ${(x.hi * 100).toFixed(1)}]` : '–',
    ]),
  );
  out.push('', `${md ? '' : '  '}precision, recall and F1 for the positive class ${report.table1.positiveClass}; values in %`);

  if (report.confusion) {
    const c = report.confusion;
    heading(`Confusion matrix (positive class ${c.labels.positive})`);
    grid(
      ['actual \\ predicted', c.labels.positive, c.labels.negative],
      [
        [c.labels.positive, String(c.tp), String(c.fn)],
        [c.labels.negative, String(c.fp), String(c.tn)],
      ],
    );
  }

  if (report.splits.length) {
    heading('Data splits');
    grid(['split', 'clips', 'speakers'], report.splits.map((s) => [s.split, s.clips?.toString() ?? '–', s.speakers?.toString() ?? '–']));
  }

  if (report.worstSpeakers.length) {
    heading(`Speakers with the lowest accuracy (of ${report.testSpeakers ?? '?'})`);
    grid(
      ['speaker', 'gender', 'clips', 'accuracy'],
      report.worstSpeakers.map((s) => [md ? `\`${s.clientId.slice(0, 12)}\`` : s.clientId.slice(0, 12), s.gender, String(s.n), (s.accuracy * 100).toFixed(1)]),
    );
  }

  if (report.otherMetrics.length) {
    heading('Other metrics');
    grid(['metric', 'value'], report.otherMetrics.map((x) => [x.name, Number.isInteger(x.value) ? String(x.value) : x.value.toPrecision(4)]));
  }

  heading('Warnings');
  if (report.warnings.length === 0) out.push(md ? 'none' : '  none');
  else out.push(...report.warnings.map((w) => (md ? `- ${w}` : `  - ${w}`)));

  if (report.plots.length) {
    heading('Plots');
    out.push(...report.plots.map((p) => (md ? `![${p.name}](${p.path})` : `  ${p.name}: ${p.path}`)));
  }
  return out.join('\n').trim();
}
