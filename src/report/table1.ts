/**
 * The paper's Table 1 (model, accuracy, precision, recall, F1), with xp's runs beside the
 * paper's reported numbers. Each xp cell is `value [lo, hi]` in percent: the test-set value
 * and its bootstrap interval (eval.<m>, eval.<m>_lo, eval.<m>_hi in the run record). A run over
 * several seeds (`seeds: [...]`) records `seeds.<m>_mean`, `_sd`, `_lo`, `_hi`; its cell is
 * `mean ± sd [lo, hi]`, sd being the spread over seeds and [lo, hi] the t interval of the mean.
 *
 * A run is matched to a paper row by its spec name (baseline-cnn → CNN, cnn-lstm → CNN-LSTM,
 * cnn-lstm-tuned → tuned CNN-LSTM); runs of other specs (a logistic-regression baseline, an
 * ablation) are rows of their own without paper numbers.
 */
import { bootstrapUnit } from '../eval/bootstrap.ts';
import type { ArtifactCache } from '../runner/cache.ts';
import type { RunRecord } from '../runner/runStore.ts';
import { table } from '../cli/output.ts';
import { evalArtifacts, evalSettings, percentWithInterval, splitOf } from './runFacts.ts';

export const TABLE1_METRICS = ['accuracy', 'precision', 'recall', 'f1'] as const;
export type Table1Metric = (typeof TABLE1_METRICS)[number];
const HEADINGS: Record<Table1Metric, string> = { accuracy: 'accuracy', precision: 'precision', recall: 'recall', f1: 'F1' };

/** A row as the paper reports it (percent, as printed; male is the positive class). */
export interface PaperRow {
  model: string;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
}

/** Paper rows by the spec name of the experiment that reproduces them, in the paper's order. */
export const PAPER_TABLE1: ReadonlyMap<string, PaperRow> = new Map([
  ['baseline-cnn', { model: 'CNN', accuracy: 92, precision: 92.5, recall: 93, f1: 92.8 }],
  ['cnn-lstm', { model: 'CNN-LSTM', accuracy: 98.57, precision: 98.74, recall: 99, f1: 98.47 }],
  ['cnn-lstm-tuned', { model: 'Hyperparameter-tuned CNN-LSTM', accuracy: 99.9, precision: 99.3, recall: 99.9, f1: 99.2 }],
]);

export type Table1Cell =
  | { kind: 'interval'; value: number; lo: number | null; hi: number | null }
  | { kind: 'seeds'; mean: number; sd: number | null; lo: number | null; hi: number | null }
  | { kind: 'missing' };

export interface Table1Entry {
  model: string;
  runId: string;
  spec: string;
  status: string;
  split: string | null;
  positiveClass: string;
  confidence: number;
  testClips: number | null;
  testSpeakers: number | null;
  /** Number of seeds behind mean ± sd cells (seeds.seeds). */
  seeds: number | null;
  cells: Record<Table1Metric, Table1Cell>;
  paper: PaperRow | null;
}

export type Table1Format = 'text' | 'md' | 'csv';

export function table1Entries(records: readonly RunRecord[], cache?: ArtifactCache): Table1Entry[] {
  return records.map((record) => {
    const m = record.metrics;
    const paper = PAPER_TABLE1.get(record.spec) ?? null;
    const settings = evalSettings(record);
    const seeds = numberOrNull(m['seeds.seeds']);
    const source = seeds === null ? 'eval' : 'seeds';
    let testClips = numberOrNull(m[`${source}.n`]);
    let testSpeakers = numberOrNull(m[`${source}.speakers`]);
    if ((testClips === null || testSpeakers === null) && cache) {
      const report = evalArtifacts(cache, record)?.report;
      testClips ??= report?.n ?? null;
      testSpeakers ??= report?.speakers ?? null;
    }
    const cells = {} as Record<Table1Metric, Table1Cell>;
    for (const metric of TABLE1_METRICS) {
      const mean = m[`seeds.${metric}_mean`];
      const value = m[`eval.${metric}`];
      if (isNumber(mean)) {
        cells[metric] = { kind: 'seeds', mean, sd: numberOrNull(m[`seeds.${metric}_sd`]), lo: numberOrNull(m[`seeds.${metric}_lo`]), hi: numberOrNull(m[`seeds.${metric}_hi`]) };
      }
      else if (isNumber(value)) cells[metric] = { kind: 'interval', value, lo: numberOrNull(m[`eval.${metric}_lo`]), hi: numberOrNull(m[`eval.${metric}_hi`]) };
      else cells[metric] = { kind: 'missing' };
    }
    return {
      model: paper?.model ?? record.spec,
      runId: record.id,
      spec: record.spec,
      status: record.status,
      split: splitOf(record),
      positiveClass: settings.positiveClass,
      confidence: settings.confidence,
      testClips,
      testSpeakers,
      seeds,
      cells,
      paper,
    };
  });
}

export function formatTable1(entries: readonly Table1Entry[], format: Table1Format): string {
  if (format === 'csv') return table1Csv(entries);
  const header = ['model', 'source', 'run', ...TABLE1_METRICS.map((m) => HEADINGS[m]), 'split', 'test clips', 'speakers'];
  const rows: string[][] = [];
  const paperShown = new Set<string>();
  for (const entry of entries) {
    if (entry.paper && !paperShown.has(entry.spec)) {
      paperShown.add(entry.spec);
      rows.push([entry.model, 'paper', '', ...TABLE1_METRICS.map((m) => String(entry.paper![m])), '', '', '']);
    }
    rows.push([
      entry.model,
      'xp',
      entry.runId,
      ...TABLE1_METRICS.map((m) => cellText(entry.cells[m])),
      entry.split ?? '–',
      entry.testClips === null ? '–' : String(entry.testClips),
      entry.testSpeakers === null ? '–' : String(entry.testSpeakers),
    ]);
  }
  const notes = table1Notes(entries);
  if (format === 'md') {
    const escape = (cell: string) => cell.replace(/\|/g, '\\|');
    const lines = [
      `| ${header.join(' | ')} |`,
      `|${header.map((h, i) => (RIGHT_ALIGNED.has(h) || (i >= 3 && i < 3 + TABLE1_METRICS.length) ? ' ---: ' : ' --- ')).join('|')}|`,
      ...rows.map((r) => `| ${r.map(escape).join(' | ')} |`),
    ];
    return [...lines, '', ...notes.map((n) => `- ${n}`)].join('\n');
  }
  return [table(header, rows), '', ...notes].join('\n');
}

const RIGHT_ALIGNED = new Set(['test clips', 'speakers']);

export function cellText(cell: Table1Cell): string {
  switch (cell.kind) {
    case 'interval':
      return percentWithInterval(cell.value, cell.lo, cell.hi);
    case 'seeds': {
      const sd = cell.sd === null ? '' : ` ± ${(cell.sd * 100).toFixed(1)}`;
      const interval = cell.lo === null || cell.hi === null ? '' : ` [${(cell.lo * 100).toFixed(1)}, ${(cell.hi * 100).toFixed(1)}]`;
      return `${(cell.mean * 100).toFixed(1)}${sd}${interval}`;
    }
    case 'missing':
      return '–';
  }
}

/** Footnotes: what the intervals are, the positive class, runs without results. */
function table1Notes(entries: readonly Table1Entry[]): string[] {
  const notes: string[] = [];
  const kinds = new Set<string>();
  for (const e of entries) {
    const interval = TABLE1_METRICS.some((m) => e.cells[m].kind === 'interval' && (e.cells[m] as { lo: number | null }).lo !== null);
    if (interval) {
      const unit = e.split ? bootstrapUnit(e.split as 'speaker' | 'clip' | 'release') : null;
      kinds.add(`xp cells: test-set value [lo, hi] in %, ${Math.round(e.confidence * 1000) / 10}% percentile bootstrap interval${unit ? ` resampling ${unit}s (split by ${e.split})` : ''}`);
    }
    if (TABLE1_METRICS.some((m) => e.cells[m].kind === 'seeds')) {
      kinds.add(`xp cells over ${e.seeds ?? 'several'} seeds: mean ± sd [lo, hi] in %; [lo, hi] is the ${Math.round(e.confidence * 1000) / 10}% t interval of the mean across seeds (training randomness; the test set is the same for every seed)`);
    }
  }
  notes.push(...kinds);
  const positives = [...new Set(entries.map((e) => e.positiveClass))];
  notes.push(
    positives.length === 1
      ? `precision, recall and F1 are for the positive class ${positives[0]}${entries.some((e) => e.paper) ? ' (the paper reports male)' : ''}`
      : `precision, recall and F1 are for each run's positive class: ${entries.map((e) => `${e.runId} ${e.positiveClass}`).join(', ')}`,
  );
  if (entries.some((e) => e.paper)) notes.push('paper rows: as reported in the paper, single numbers without intervals');
  for (const e of entries) {
    if (TABLE1_METRICS.every((m) => e.cells[m].kind === 'missing')) notes.push(`${e.runId} has no eval metrics (run ${e.status})`);
  }
  return notes;
}

const CSV_COLUMNS = [
  'model', 'source', 'run', 'spec', 'split', 'test_clips', 'test_speakers', 'positive_class',
  ...TABLE1_METRICS.flatMap((m) => [m, `${m}_lo`, `${m}_hi`, `${m}_sd`]),
];

/** One line per paper row and per run; metric columns in percent (two decimals), blank when absent. */
function table1Csv(entries: readonly Table1Entry[]): string {
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? '' : (x * 100).toFixed(2));
  const lines = [CSV_COLUMNS.join(',')];
  const paperShown = new Set<string>();
  for (const e of entries) {
    if (e.paper && !paperShown.has(e.spec)) {
      paperShown.add(e.spec);
      lines.push(csvLine([e.model, 'paper', '', e.spec, '', '', '', 'male', ...TABLE1_METRICS.flatMap((m) => [String(e.paper![m]), '', '', ''])]));
    }
    const metrics = TABLE1_METRICS.flatMap((m) => {
      const cell = e.cells[m];
      if (cell.kind === 'interval') return [pct(cell.value), pct(cell.lo), pct(cell.hi), ''];
      if (cell.kind === 'seeds') return [pct(cell.mean), pct(cell.lo), pct(cell.hi), pct(cell.sd)];
      return ['', '', '', ''];
    });
    lines.push(csvLine([e.model, 'xp', e.runId, e.spec, e.split ?? '', e.testClips?.toString() ?? '', e.testSpeakers?.toString() ?? '', e.positiveClass, ...metrics]));
  }
  return lines.join('\n');
}

function csvLine(cells: string[]): string {
  return cells.map((c) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',');
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function numberOrNull(value: unknown): number | null {
  return isNumber(value) ? value : null;
}
