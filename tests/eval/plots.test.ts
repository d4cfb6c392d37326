import { readdirSync, readFileSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import { describe, expect, it } from 'vitest';
import { confusionMatrixSvg, learningCurvesSvg, rocCurveSvg, searchTrialsSvg, writePlots } from '../../src/eval/plots.ts';
import { confusion, rocAuc, rocCurve } from '../../src/eval/metrics.ts';
import { useTempDirs } from '../fixtures/tempProject.ts';

const tempDir = useTempDirs();

/** The text of every <text> element, in document order. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}

/** Rasterise with a real SVG renderer: it must parse, have the size it declares, and draw something. */
function rasterise(svg: string): { width: number; height: number; inked: number } {
  const declared = svg.match(/^<svg[^>]* width="(\d+)" height="(\d+)"/);
  expect(declared).not.toBeNull();
  const image = new Resvg(svg, { font: { loadSystemFonts: false } }).render();
  expect([image.width, image.height]).toEqual([Number(declared![1]), Number(declared![2])]);
  const pixels = image.pixels;
  let inked = 0;
  for (let i = 0; i < pixels.length; i += 4) if (pixels[i] < 200 || pixels[i + 1] < 200 || pixels[i + 2] < 200) inked++;
  return { width: image.width, height: image.height, inked };
}

const LABELS = [1, 1, 1, 0, 0, 0, 1, 0];
const P_MALE = [0.9, 0.6, 0.4, 0.2, 0.7, 0.1, 0.5, 0.5];

describe('plots', () => {
  it('learning curves: loss panel and validation-metric panel with axis titles and a legend', async () => {
    const history = [1, 2, 3, 4].map((epoch) => ({ epoch, loss: 1 / epoch, val_loss: 1.2 / epoch, val_accuracy: 0.6 + epoch / 20, val_f1: 0.55 + epoch / 20 }));
    const svg = await learningCurvesSvg(history);
    expect(svg.startsWith('<svg')).toBe(true);
    const t = texts(svg);
    for (const label of ['Learning curves', 'Loss', 'Validation metrics', 'epoch', 'loss', 'validation metric', 'train loss', 'validation loss', 'validation accuracy', 'validation F1']) {
      expect(t).toContain(label);
    }
    // One line mark per series: train/val loss, val accuracy/F1.
    expect(svg.match(/class="mark-line role-mark/g)?.length).toBe(4);
  });

  it('learning curves without validation metrics draw the loss panel only', async () => {
    const svg = await learningCurvesSvg([{ epoch: 1, loss: 0.7 }, { epoch: 2, loss: 0.5 }]);
    expect(texts(svg)).not.toContain('Validation metrics');
    expect(texts(svg)).toContain('train loss');
  });

  it('confusion matrix: four cells with their counts, actual down and predicted across', async () => {
    const svg = await confusionMatrixSvg(confusion(LABELS, P_MALE, 'female'));
    const t = texts(svg);
    expect(t).toContain('Confusion matrix (n = 8, positive class female)');
    expect(t).toEqual(expect.arrayContaining(['predicted', 'actual', 'female', 'male']));
    // tp 2, fn 2, fp 1, tn 3
    expect(t.filter((x) => /^\d$/.test(x)).sort()).toEqual(['1', '2', '2', '3']);
    expect(svg.match(/<path[^>]*role-mark[^>]*>|class="mark-rect role-mark/g)).not.toBeNull();
  });

  it('ROC curve: rates on the axes, the diagonal, and the AUC in the title', async () => {
    const auc = rocAuc(LABELS, P_MALE, 'male');
    const svg = await rocCurveSvg(rocCurve(LABELS, P_MALE, 'male'), auc);
    const t = texts(svg);
    expect(t).toContain('ROC curve (AUC = 0.719)');
    expect(t).toEqual(expect.arrayContaining(['false positive rate', 'true positive rate']));
    expect(svg.match(/class="mark-line role-mark/g)?.length).toBe(2);
    expect(texts(await rocCurveSvg([], null))).toContain('ROC curve (AUC = undefined)');
  });

  it('search trials: one panel per hyper-parameter, best-so-far over trials, failures counted', async () => {
    const trials = [
      { trial: 0, params: { 'train.lr': 0.0001, 'model.lstm.units': 32, 'model.conv.filters': [16, 32] }, objective: 0.81 },
      { trial: 1, params: { 'train.lr': 0.003, 'model.lstm.units': 64, 'model.conv.filters': [32, 64] }, objective: 0.9 },
      { trial: 2, params: { 'train.lr': 0.001, 'model.lstm.units': 128, 'model.conv.filters': [16, 32] }, objective: null, status: 'failed' },
      { trial: 3, params: { 'train.lr': 0.0005, 'model.lstm.units': 64, 'model.conv.filters': [32, 64] }, objective: 0.86 },
    ];
    const svg = await searchTrialsSvg(trials, { objective: 'val_f1', mode: 'max' });
    const t = texts(svg);
    expect(t).toContain('Search: 3 of 4 trials');
    expect(t.filter((x) => x === 'train.lr').length).toBeGreaterThanOrEqual(2); // panel title + axis title
    expect(t).toEqual(expect.arrayContaining(['model.lstm.units', 'model.conv.filters', '[16,32]', '[32,64]', 'trial', 'val_f1']));
    expect(t).toContain('Best val_f1 so far (max) — 1 trial without an objective');
    // 3 scatter panels + the trial points: 4 symbol marks; one step line for the running best.
    expect(svg.match(/class="mark-symbol role-mark/g)?.length).toBe(4);
    expect(svg.match(/class="mark-line role-mark/g)?.length).toBe(1);
  });

  it('every plot is a valid SVG a real renderer draws', async () => {
    const svgs = [
      await learningCurvesSvg([{ epoch: 1, loss: 0.7, val_loss: 0.8, val_f1: 0.6 }, { epoch: 2, loss: 0.5, val_loss: 0.6, val_f1: 0.7 }]),
      await confusionMatrixSvg(confusion(LABELS, P_MALE, 'male')),
      await rocCurveSvg(rocCurve(LABELS, P_MALE, 'male'), rocAuc(LABELS, P_MALE, 'male')),
      await searchTrialsSvg([{ trial: 0, params: { lr: 0.001 }, objective: 0.8 }, { trial: 1, params: { lr: 0.01 }, objective: 0.85 }], { objective: 'val_f1', mode: 'max' }),
    ];
    for (const svg of svgs) {
      const { width, height, inked } = rasterise(svg);
      expect(inked).toBeGreaterThan(0.005 * width * height);
    }
  });

  it('writePlots writes <name>.svg files and refuses names that are paths', async () => {
    const dir = tempDir();
    const svg = await rocCurveSvg(rocCurve(LABELS, P_MALE, 'male'), 0.5);
    const files = writePlots(dir, { roc: svg });
    expect(readdirSync(dir)).toEqual(['roc.svg']);
    expect(readFileSync(files[0], 'utf8')).toBe(svg);
    expect(() => writePlots(dir, { '../x': svg })).toThrow(/not a plain file name/);
  });
});
