/**
 * What a search leaves in its artifact besides the model: trials.json, trials.csv, best.json
 * and plots/search_trials.svg.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { searchTrialsSvg, writePlots } from '../eval/plots.ts';
import type { SearchOutcome, TrialRecord } from './driver.ts';

const VAL_METRICS = ['val_loss', 'val_accuracy', 'val_f1', 'val_auc'] as const;

export interface TrialRow {
  trial: number;
  status: TrialRecord['status'];
  params: Record<string, unknown>;
  objective: number | null;
  val_loss: number | null;
  val_accuracy: number | null;
  val_f1: number | null;
  val_auc: number | null;
  /** ASHA rung reached (0 for other methods). */
  rung: number;
  /** Epochs in the trial's final model history. */
  epochs: number;
  /** Epochs this search actually trained for it (0 when it came from the cache). */
  epochs_trained: number;
  duration_ms: number;
  key: string;
  /** Every cache key of the trial (one per ASHA rung). */
  keys: string[];
  error?: string;
}

export function trialRows(outcome: SearchOutcome): TrialRow[] {
  return outcome.trials.map((t) => ({
    trial: t.trial,
    status: t.status,
    params: t.assignment,
    objective: t.objective,
    ...(Object.fromEntries(VAL_METRICS.map((m) => [m, finiteOrNull(t.val?.[m])])) as Record<(typeof VAL_METRICS)[number], number | null>),
    rung: t.rung,
    epochs: t.epochs,
    epochs_trained: t.epochsTrained,
    duration_ms: t.durationMs,
    key: t.key,
    keys: t.keys,
    ...(t.error ? { error: t.error } : {}),
  }));
}

export async function writeSearchOutputs(
  dir: string,
  outcome: SearchOutcome,
  objective: { metric: string; mode: 'max' | 'min' },
): Promise<TrialRow[]> {
  const rows = trialRows(outcome);
  writeFileSync(path.join(dir, 'trials.json'), JSON.stringify({ method: outcome.method, rungs: outcome.rungs, objective, trials: rows }, null, 1));
  writeFileSync(path.join(dir, 'trials.csv'), trialsCsv(rows));
  const best = outcome.trials[outcome.best];
  if (best) {
    writeFileSync(
      path.join(dir, 'best.json'),
      JSON.stringify({ trial: best.trial, params: best.assignment, objective: best.objective, metric: objective.metric, mode: objective.mode, val: best.val, epochs: best.epochs, key: best.key, config: best.config }, null, 1),
    );
  }
  const svg = await searchTrialsSvg(
    rows.map((r) => ({ trial: r.trial, params: r.params, objective: r.objective, status: r.status })),
    { objective: objective.metric, mode: objective.mode },
  );
  writePlots(path.join(dir, 'plots'), { search_trials: svg });
  return rows;
}

/** One row per trial; each parameter a column (lists as JSON). */
export function trialsCsv(rows: readonly TrialRow[]): string {
  const params = [...new Set(rows.flatMap((r) => Object.keys(r.params)))];
  const header = ['trial', 'status', ...params, 'objective', ...VAL_METRICS, 'rung', 'epochs', 'epochs_trained', 'duration_ms', 'key', 'error'];
  const lines = [header.join(',')];
  for (const r of rows) {
    const cells = [
      r.trial,
      r.status,
      ...params.map((p) => (typeof r.params[p] === 'number' || typeof r.params[p] === 'string' ? r.params[p] : JSON.stringify(r.params[p]))),
      r.objective,
      ...VAL_METRICS.map((m) => r[m]),
      r.rung,
      r.epochs,
      r.epochs_trained,
      r.duration_ms,
      r.key,
      r.error ?? '',
    ];
    lines.push(cells.map(csvCell).join(','));
  }
  return lines.join('\n') + '\n';
}

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function finiteOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
