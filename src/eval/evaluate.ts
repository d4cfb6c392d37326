/**
 * The eval stage's arithmetic: test clips + a model's p_male → metrics with bootstrap CIs,
 * confusion matrix, ROC curve and per-speaker accuracy (EvalReport); predictions.csv so two
 * runs can later be compared clip by clip (src/eval/paired.ts, `xp diff`).
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomicWrite.ts';
import { bootstrapMetrics, bootstrapUnit, groupIndices, singletonClusters, type BootstrapUnit, type Interval } from './bootstrap.ts';
import {
  confusion,
  DEFAULT_THRESHOLD,
  labelOf,
  METRIC_NAMES,
  perSpeakerAccuracy,
  rocCurve,
  type Confusion,
  type Gender,
  type MetricName,
  type RocPoint,
  type SpeakerAccuracy,
} from './metrics.ts';
import type { PairedClip } from './paired.ts';

export interface EvalClip {
  path: string;
  clientId: string;
  gender: Gender;
}

export interface EvaluateOptions {
  clips: readonly EvalClip[];
  /** p_male per clip, in the order of `clips`. */
  probabilities: ArrayLike<number>;
  positiveClass: Gender;
  /** Number of bootstrap resamples (0: no intervals). */
  bootstrap: number;
  confidence: number;
  seed: number;
  /** How the test split was made: speaker-disjoint (and release) splits resample speakers. */
  splitBy: 'speaker' | 'clip' | 'release';
  threshold?: number;
}

export interface EvalReport {
  n: number;
  speakers: number;
  positiveClass: Gender;
  threshold: number;
  confidence: number;
  metrics: Record<MetricName, Interval>;
  confusion: Confusion;
  perSpeaker: SpeakerAccuracy[];
  roc: RocPoint[];
  bootstrap: {
    resamples: number;
    /** Resamples skipped because they held clips of one class only. */
    skipped: number;
    unit: BootstrapUnit;
    /** Kept resamples on which one metric was still undefined (e.g. precision with no positive predictions). */
    undefinedCounts: Record<MetricName, number>;
  };
}

export function evaluate(options: EvaluateOptions): EvalReport {
  const { clips, probabilities, positiveClass } = options;
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  if (clips.length !== probabilities.length) throw new RangeError(`${clips.length} clips but ${probabilities.length} probabilities`);
  if (clips.length === 0) throw new UserError('the test split is empty: nothing to evaluate');
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i];
    if (!(p >= 0 && p <= 1)) throw new RangeError(`p_male of clip ${clips[i].path} is ${p}, not a probability`);
  }
  const labels = Uint8Array.from(clips, (c) => labelOf(c.gender));
  const speakers = clips.map((c) => c.clientId);
  const unit = bootstrapUnit(options.splitBy);
  const clusters = unit === 'speaker' ? groupIndices(speakers) : singletonClusters(clips.length);
  const result = bootstrapMetrics({
    labels,
    probabilities,
    positiveClass,
    threshold,
    clusters,
    resamples: options.bootstrap,
    confidence: options.confidence,
    seed: options.seed,
  });
  return {
    n: clips.length,
    speakers: new Set(speakers).size,
    positiveClass,
    threshold,
    confidence: options.confidence,
    metrics: result.intervals,
    confusion: confusion(labels, probabilities, positiveClass, threshold),
    perSpeaker: perSpeakerAccuracy(speakers, labels, probabilities, threshold),
    roc: rocCurve(labels, probabilities, positiveClass),
    bootstrap: { resamples: result.resamples, skipped: result.skipped, unit, undefinedCounts: result.undefinedCounts },
  };
}

/**
 * The numbers a run record keeps (as `eval.<name>`): each metric with `_lo`/`_hi`, the
 * confusion counts, test-set size and the bootstrap's bookkeeping. Undefined values are left out.
 */
export function flattenMetrics(report: EvalReport): Record<string, number> {
  const flat: Record<string, number> = {};
  for (const name of METRIC_NAMES) {
    const { value, lo, hi } = report.metrics[name];
    if (value !== null) flat[name] = value;
    if (lo !== null) flat[`${name}_lo`] = lo;
    if (hi !== null) flat[`${name}_hi`] = hi;
  }
  const { tp, fp, tn, fn } = report.confusion;
  Object.assign(flat, { tp, fp, tn, fn, n: report.n, speakers: report.speakers });
  flat.bootstrap_resamples = report.bootstrap.resamples;
  flat.bootstrap_skipped = report.bootstrap.skipped;
  return flat;
}

export const PREDICTIONS_FILE = 'predictions.csv';
export const EVAL_REPORT_FILE = 'eval.json';
const COLUMNS = ['path', 'client_id', 'gender', 'p_male', 'predicted', 'correct'] as const;

export interface PredictionRow extends PairedClip {
  predicted: Gender;
  correct: boolean;
}

/**
 * predictions.csv: one line per test clip. `p_male` is written in full (shortest round-trip
 * form) so that metrics recomputed from the file equal the run's. `predicted` uses the 0.5
 * threshold unless another is given; positiveClass does not change it (kept in the signature
 * so callers state it, and for a future `positive` column).
 */
export function writePredictionsCsv(
  file: string,
  clips: readonly EvalClip[],
  probabilities: ArrayLike<number>,
  positiveClass: Gender,
  threshold = DEFAULT_THRESHOLD,
): void {
  void positiveClass;
  if (clips.length !== probabilities.length) throw new RangeError(`${clips.length} clips but ${probabilities.length} probabilities`);
  const lines = [COLUMNS.join(',')];
  clips.forEach((clip, i) => {
    const p = probabilities[i];
    const predicted: Gender = p >= threshold ? 'male' : 'female';
    lines.push([clip.path, clip.clientId, clip.gender, String(p), predicted, predicted === clip.gender ? '1' : '0'].map(csvField).join(','));
  });
  writeFileAtomic(file, lines.join('\n') + '\n');
}

export function readPredictionsCsv(file: string): PredictionRow[] {
  const records = parseCsv(readFileSync(file, 'utf8'));
  const header = records.shift();
  if (!header || COLUMNS.some((c, i) => header[i] !== c)) {
    throw new UserError(`${file} is not an xp predictions file: expected columns ${COLUMNS.join(',')}, got ${header?.join(',') ?? 'nothing'}`);
  }
  return records.map((r, line) => {
    const [path, clientId, gender, pText, predicted, correct] = r;
    const pMale = Number(pText);
    if (r.length !== COLUMNS.length || !isGender(gender) || !isGender(predicted) || !(pMale >= 0 && pMale <= 1) || !/^[01]$/.test(correct)) {
      throw new UserError(`${file}:${line + 2}: malformed prediction row: ${r.join(',')}`);
    }
    return { path, clientId, gender, pMale, predicted, correct: correct === '1' };
  });
}

function isGender(value: string | undefined): value is Gender {
  return value === 'male' || value === 'female';
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** RFC 4180: quoted fields may hold commas, doubled quotes and newlines. Blank lines are skipped. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const endRow = () => {
    row.push(field);
    if (row.length > 1 || row[0] !== '') rows.push(row);
    row = [];
    field = '';
  };
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else field += ch;
      i++;
      continue;
    }
    if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      endRow();
      if (ch === '\r' && text[i + 1] === '\n') i++;
    } else field += ch;
    i++;
  }
  if (field !== '' || row.length) endRow();
  return rows;
}
