/**
 * Plots as SVG strings, drawn by vega-lite and rendered headless by vega (no browser, no
 * canvas): learning curves, confusion matrix, ROC curve, search trials. Each function returns
 * a Promise of the SVG text (vega renders asynchronously); writePlots puts them in a folder
 * (the runner's `runs/<id>/plots/`).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../util/atomicWrite.ts';
import type { Confusion, RocPoint } from './metrics.ts';

/** Shared look: white background, a font every machine has. */
const CONFIG = {
  background: 'white',
  font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14 },
} as const;

/** Compile a vega-lite spec and render it to SVG without a browser. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // Loaded on first use: vega is large, and most runs (cache hits) draw nothing.
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vegaLite.compile({ ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface EpochRow {
  epoch: number;
  loss: number;
  val_loss?: number | null;
  val_accuracy?: number | null;
  val_f1?: number | null;
}

/** Two panels: train/val loss per epoch; validation accuracy and F1 per epoch. */
export function learningCurvesSvg(history: readonly EpochRow[], options: { title?: string } = {}): Promise<string> {
  const losses: { epoch: number; series: string; value: number }[] = [];
  const scores: { epoch: number; series: string; value: number }[] = [];
  for (const row of history) {
    if (isNumber(row.loss)) losses.push({ epoch: row.epoch, series: 'train loss', value: row.loss });
    if (isNumber(row.val_loss)) losses.push({ epoch: row.epoch, series: 'validation loss', value: row.val_loss });
    if (isNumber(row.val_accuracy)) scores.push({ epoch: row.epoch, series: 'validation accuracy', value: row.val_accuracy });
    if (isNumber(row.val_f1)) scores.push({ epoch: row.epoch, series: 'validation F1', value: row.val_f1 });
  }
  const panel = (values: typeof losses, yTitle: string, panelTitle: string, zeroToOne: boolean) => ({
    title: panelTitle,
    width: 300,
    height: 220,
    data: { values },
    mark: { type: 'line' as const, point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative' as const, title: 'epoch', axis: { tickMinStep: 1 } },
      y: {
        field: 'value',
        type: 'quantitative' as const,
        title: yTitle,
        scale: zeroToOne ? { domain: [Math.min(0.5, ...values.map((v) => v.value)), 1] } : { zero: false },
      },
      color: { field: 'series', type: 'nominal' as const, title: null, legend: { orient: 'bottom' as const } },
    },
  });
  const panels = [panel(losses, 'loss', 'Loss', false)];
  if (scores.length) panels.push(panel(scores, 'validation metric', 'Validation metrics', true));
  return renderSvg({
    title: options.title ?? 'Learning curves',
    hconcat: panels,
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec);
}

/** 2×2 heatmap, actual class down, predicted class across, counts written in the cells. */
export function confusionMatrixSvg(c: Confusion, options: { title?: string } = {}): Promise<string> {
  const { positive, negative } = c.labels;
  const values = [
    { actual: positive, predicted: positive, count: c.tp },
    { actual: positive, predicted: negative, count: c.fn },
    { actual: negative, predicted: positive, count: c.fp },
    { actual: negative, predicted: negative, count: c.tn },
  ];
  const max = Math.max(1, ...values.map((v) => v.count));
  const order = [positive, negative];
  return renderSvg({
    title: options.title ?? `Confusion matrix (n = ${c.tp + c.fp + c.tn + c.fn}, positive class ${positive})`,
    width: 240,
    height: 240,
    data: { values },
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: order, title: 'predicted', axis: { labelAngle: 0, orient: 'top' } },
      y: { field: 'actual', type: 'nominal', sort: order, title: 'actual' },
    },
    layer: [
      {
        mark: 'rect',
        encoding: { color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues', domain: [0, max] }, legend: null } },
      },
      {
        mark: { type: 'text', fontSize: 20, fontWeight: 'bold' },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: `datum.count > ${max / 2}`, value: 'white' }, value: 'black' },
        },
      },
    ],
  } as TopLevelSpec);
}

/** ROC curve with the chance diagonal; the AUC goes in the title. */
export function rocCurveSvg(roc: readonly RocPoint[], auc: number | null, options: { title?: string } = {}): Promise<string> {
  const values = roc.map((p, index) => ({ fpr: p.fpr, tpr: p.tpr, index }));
  const aucText = auc === null || Number.isNaN(auc) ? 'undefined' : auc.toFixed(3);
  return renderSvg({
    title: options.title ?? `ROC curve (AUC = ${aucText})`,
    width: 280,
    height: 280,
    layer: [
      {
        data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
        mark: { type: 'line', strokeDash: [4, 4], color: '#999' },
        encoding: {
          x: { field: 'x', type: 'quantitative' },
          y: { field: 'y', type: 'quantitative' },
        },
      },
      {
        data: { values },
        mark: { type: 'line', color: '#1f77b4', strokeWidth: 2 },
        encoding: {
          x: { field: 'fpr', type: 'quantitative', title: 'false positive rate', scale: { domain: [0, 1] } },
          y: { field: 'tpr', type: 'quantitative', title: 'true positive rate', scale: { domain: [0, 1] } },
          order: { field: 'index', type: 'quantitative' },
        },
      },
    ],
  } as TopLevelSpec);
}

export interface TrialRow {
  trial: number;
  params: Record<string, unknown>;
  /** The objective's value; null for trials that failed or were pruned before reporting one. */
  objective: number | null;
  status?: string;
}

/**
 * Search trials: the objective against each hyper-parameter (one small panel each; numeric
 * parameters spanning a decade or more on a log axis), and the best objective so far
 * against trial index.
 */
export function searchTrialsSvg(
  trials: readonly TrialRow[],
  options: { objective: string; mode: 'max' | 'min'; title?: string },
): Promise<string> {
  const finished = trials.filter((t) => isNumber(t.objective)).sort((a, b) => a.trial - b.trial);
  const names = [...new Set(trials.flatMap((t) => Object.keys(t.params)))].sort();
  const panels = names.map((name) => {
    const raw = finished.map((t) => t.params[name]);
    const numeric = raw.every((v) => typeof v === 'number');
    const positive = numeric && raw.every((v) => (v as number) > 0);
    const span = positive && raw.length ? Math.max(...(raw as number[])) / Math.min(...(raw as number[])) : 1;
    const values = finished.map((t) => ({ trial: t.trial, objective: t.objective, value: numeric ? t.params[name] : JSON.stringify(t.params[name]) }));
    return {
      width: 180,
      height: 140,
      title: name,
      data: { values },
      mark: { type: 'point', filled: true, size: 60, opacity: 0.8 },
      encoding: {
        x: numeric
          ? { field: 'value', type: 'quantitative', title: name, scale: span >= 10 ? { type: 'log' } : { zero: false } }
          : { field: 'value', type: 'nominal', title: name, axis: { labelAngle: 0 } },
        y: { field: 'objective', type: 'quantitative', title: options.objective, scale: { zero: false } },
        tooltip: [{ field: 'trial' }, { field: 'objective' }],
      },
    };
  });
  let best: number | null = null;
  const progress = finished.map((t) => {
    const value = t.objective as number;
    if (best === null || (options.mode === 'max' ? value > best : value < best)) best = value;
    return { trial: t.trial, objective: value, best };
  });
  const failed = trials.length - finished.length;
  const bestPanel = {
    width: 380,
    height: 180,
    title: `Best ${options.objective} so far (${options.mode})${failed ? ` — ${failed} trial${failed === 1 ? '' : 's'} without an objective` : ''}`,
    data: { values: progress },
    encoding: { x: { field: 'trial', type: 'quantitative', title: 'trial', axis: { tickMinStep: 1 } } },
    layer: [
      { mark: { type: 'point', color: '#999' }, encoding: { y: { field: 'objective', type: 'quantitative', title: options.objective, scale: { zero: false } } } },
      { mark: { type: 'line', interpolate: 'step-after', color: '#d62728', strokeWidth: 2 }, encoding: { y: { field: 'best', type: 'quantitative' } } },
    ],
  };
  return renderSvg({
    title: options.title ?? `Search: ${finished.length} of ${trials.length} trials`,
    vconcat: [{ concat: panels, columns: 3 }, bestPanel],
  } as TopLevelSpec);
}

/** Write `{ name: svg }` as `<dir>/<name>.svg`; returns the files written. */
export function writePlots(dir: string, plots: Record<string, string>): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(plots).map(([name, svg]) => {
    if (!/^[\w.-]+$/.test(name)) throw new RangeError(`plot name "${name}" is not a plain file name`);
    const file = path.join(dir, `${name}.svg`);
    writeFileAtomic(file, svg);
    return file;
  });
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
