/**
 * What the reports read from a run besides its record: the eval stage's artifact (EvalReport
 * and predictions.csv under `.xp/cache/<eval key>/`), and a few fields of the resolved spec.
 *
 * Where the eval report lives: the eval stage's value (value.json) is the EvalReport itself,
 * or holds it under `report`; failing both, `eval.json` in the artifact directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { EVAL_REPORT_FILE, PREDICTIONS_FILE, readPredictionsCsv, type EvalReport, type PredictionRow } from '../eval/evaluate.ts';
import type { Gender } from '../eval/metrics.ts';
import type { ArtifactCache } from '../runner/cache.ts';
import type { RunRecord } from '../runner/runStore.ts';

export const EVAL_STAGE = 'eval';

export interface EvalArtifacts {
  key: string;
  dir: string;
  report: EvalReport | null;
  /** Path of predictions.csv when the artifact has one. */
  predictionsFile: string | null;
}

/**
 * The run's eval artifact. A multi-seed run has one eval per seed (`eval@<seed>`); reports that
 * need one set of predictions (confusion matrix, paired tests) use the first seed's.
 */
export function evalArtifacts(cache: ArtifactCache, record: RunRecord): EvalArtifacts | null {
  const stage = record.stages[EVAL_STAGE] ?? Object.entries(record.stages).find(([id]) => id.startsWith(`${EVAL_STAGE}@`))?.[1];
  const key = stage?.key;
  if (!key) return null;
  const artifact = cache.get<unknown>(key);
  if (!artifact) return null;
  let report: EvalReport | null = null;
  if (looksLikeReport(artifact.value)) report = artifact.value;
  else if (isObject(artifact.value) && looksLikeReport(artifact.value.report)) report = artifact.value.report;
  else {
    const file = path.join(artifact.dir, EVAL_REPORT_FILE);
    if (existsSync(file)) {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (looksLikeReport(parsed)) report = parsed;
    }
  }
  const predictions = path.join(artifact.dir, PREDICTIONS_FILE);
  return { key, dir: artifact.dir, report, predictionsFile: existsSync(predictions) ? predictions : null };
}

export function readPredictions(artifacts: EvalArtifacts | null): PredictionRow[] | null {
  return artifacts?.predictionsFile ? readPredictionsCsv(artifacts.predictionsFile) : null;
}

function looksLikeReport(value: unknown): value is EvalReport {
  return isObject(value) && isObject(value.metrics) && isObject(value.confusion) && typeof value.n === 'number';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value of the resolved spec by dotted path, or undefined. */
export function specValue(record: RunRecord, dotted: string): unknown {
  let at: unknown = record.resolvedSpec;
  for (const part of dotted.split('.')) {
    if (!isObject(at)) return undefined;
    at = at[part];
  }
  return at;
}

export function splitOf(record: RunRecord): 'speaker' | 'clip' | 'release' | null {
  const by = specValue(record, 'data.split.by');
  return by === 'speaker' || by === 'clip' || by === 'release' ? by : null;
}

/** The eval settings of the run, with the schema's defaults where the spec has none. */
export function evalSettings(record: RunRecord): { positiveClass: Gender; bootstrap: number; confidence: number; seed: number } {
  const positive = specValue(record, 'eval.positive_class');
  const bootstrap = specValue(record, 'eval.bootstrap');
  const confidence = specValue(record, 'eval.confidence');
  const seed = specValue(record, 'seed');
  return {
    positiveClass: positive === 'female' ? 'female' : 'male',
    bootstrap: typeof bootstrap === 'number' ? bootstrap : 1000,
    confidence: typeof confidence === 'number' ? confidence : 0.95,
    seed: typeof seed === 'number' ? seed : 0,
  };
}

/** `value [lo, hi]` in percent, e.g. "90.1 [86.2, 93.4]"; "–" when there is no value. */
export function percentWithInterval(value: number | null | undefined, lo: number | null | undefined, hi: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  const pct = (x: number) => (x * 100).toFixed(digits);
  return lo === null || lo === undefined || hi === null || hi === undefined ? pct(value) : `${pct(value)} [${pct(lo)}, ${pct(hi)}]`;
}
