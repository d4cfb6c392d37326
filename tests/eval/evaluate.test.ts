import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { evaluate, flattenMetrics, parseCsv, readPredictionsCsv, writePredictionsCsv, type EvalClip } from '../../src/eval/evaluate.ts';
import { computeMetrics } from '../../src/eval/metrics.ts';
import { mulberry32 } from '../../src/eval/rng.ts';
import { useTempDirs } from '../fixtures/tempProject.ts';

const tempDir = useTempDirs();

function testSet(seed: number, speakers = 24, clips = 4) {
  const rng = mulberry32(seed);
  const list: EvalClip[] = [];
  const p: number[] = [];
  for (let s = 0; s < speakers; s++) {
    const gender = s % 2 ? 'male' : 'female';
    const voice = (rng() - 0.5) * 3; // speaker effect shared by their clips
    for (let c = 0; c < clips; c++) {
      list.push({ path: `common_voice_en_${s}_${c}.mp3`, clientId: `client${s}`, gender });
      const z = (gender === 'male' ? 1.2 : -1.2) + voice + (rng() - 0.5) * 2;
      p.push(1 / (1 + Math.exp(-z)));
    }
  }
  return { clips: list, probabilities: Float32Array.from(p) };
}

const BASE = { positiveClass: 'male' as const, bootstrap: 500, confidence: 0.95, seed: 42 };

describe('evaluate', () => {
  it('reports the metrics of the whole test set with intervals around them', () => {
    const { clips, probabilities } = testSet(1);
    const report = evaluate({ clips, probabilities, ...BASE, splitBy: 'speaker' });
    const labels = clips.map((c) => (c.gender === 'male' ? 1 : 0));
    const expected = computeMetrics(labels, probabilities, 'male');
    expect(report.n).toBe(96);
    expect(report.speakers).toBe(24);
    for (const [name, value] of Object.entries(expected)) {
      const interval = report.metrics[name as keyof typeof expected];
      expect(interval.value).toBe(value);
      expect(interval.lo!).toBeLessThanOrEqual(value);
      expect(interval.hi!).toBeGreaterThanOrEqual(value);
    }
    const { tp, fp, tn, fn } = report.confusion;
    expect(tp + fp + tn + fn).toBe(96);
    expect((tp + tn) / 96).toBe(expected.accuracy);
    expect(report.perSpeaker).toHaveLength(24);
    expect(report.perSpeaker.reduce((sum, s) => sum + s.n, 0)).toBe(96);
    expect(report.roc.at(-1)).toMatchObject({ fpr: 1, tpr: 1 });
    expect(report.bootstrap).toMatchObject({ resamples: 500, skipped: 0, unit: 'speaker' });
  });

  it('resamples clips for a clip split, with narrower intervals here than resampling speakers', () => {
    const { clips, probabilities } = testSet(2);
    const bySpeaker = evaluate({ clips, probabilities, ...BASE, splitBy: 'speaker' });
    const byClip = evaluate({ clips, probabilities, ...BASE, splitBy: 'clip' });
    expect(byClip.bootstrap.unit).toBe('clip');
    expect(byClip.metrics.accuracy.value).toBe(bySpeaker.metrics.accuracy.value);
    const width = (r: typeof byClip) => r.metrics.accuracy.hi! - r.metrics.accuracy.lo!;
    expect(width(byClip)).toBeLessThan(width(bySpeaker));
  });

  it('flattens to the names run records keep', () => {
    const { clips, probabilities } = testSet(3);
    const report = evaluate({ clips, probabilities, ...BASE, splitBy: 'speaker' });
    const flat = flattenMetrics(report);
    expect(Object.keys(flat)).toEqual([
      'accuracy', 'accuracy_lo', 'accuracy_hi', 'precision', 'precision_lo', 'precision_hi',
      'recall', 'recall_lo', 'recall_hi', 'f1', 'f1_lo', 'f1_hi', 'macro_f1', 'macro_f1_lo', 'macro_f1_hi',
      'roc_auc', 'roc_auc_lo', 'roc_auc_hi', 'tp', 'fp', 'tn', 'fn', 'n', 'speakers', 'bootstrap_resamples', 'bootstrap_skipped',
    ]);
    expect(flat.accuracy_lo).toBe(report.metrics.accuracy.lo);
    expect(flat.n).toBe(96);
    const noIntervals = flattenMetrics(evaluate({ clips, probabilities, ...BASE, bootstrap: 0, splitBy: 'speaker' }));
    expect(noIntervals).not.toHaveProperty('accuracy_lo');
    expect(noIntervals.accuracy).toBe(flat.accuracy);
  });

  it('refuses outputs that are not probabilities, and empty test sets', () => {
    const { clips, probabilities } = testSet(4, 2, 2);
    probabilities[1] = NaN;
    expect(() => evaluate({ clips, probabilities, ...BASE, splitBy: 'speaker' })).toThrow(/p_male of clip common_voice_en_0_1.mp3 is NaN/);
    expect(() => evaluate({ clips: [], probabilities: [], ...BASE, splitBy: 'speaker' })).toThrow(UserError);
  });
});

describe('predictions.csv', () => {
  it('round-trips paths with commas and quotes, and float32 probabilities exactly', () => {
    const dir = tempDir();
    const clips: EvalClip[] = [
      { path: 'a,b.mp3', clientId: 'c1', gender: 'male' },
      { path: 'say "hi".mp3', clientId: 'c2', gender: 'female' },
      { path: 'plain.mp3', clientId: 'c3', gender: 'female' },
    ];
    const probabilities = Float32Array.from([0.3, 0.7, 0.1]);
    const file = path.join(dir, 'predictions.csv');
    writePredictionsCsv(file, clips, probabilities, 'male');
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('path,client_id,gender,p_male,predicted,correct');
    expect(readFileSync(file, 'utf8')).toContain('"say ""hi"".mp3",c2,female,');
    const rows = readPredictionsCsv(file);
    expect(rows).toEqual([
      { path: 'a,b.mp3', clientId: 'c1', gender: 'male', pMale: probabilities[0], predicted: 'female', correct: false },
      { path: 'say "hi".mp3', clientId: 'c2', gender: 'female', pMale: probabilities[1], predicted: 'male', correct: false },
      { path: 'plain.mp3', clientId: 'c3', gender: 'female', pMale: probabilities[2], predicted: 'female', correct: true },
    ]);
    const again = evaluate({ clips: rows, probabilities: rows.map((r) => r.pMale), ...BASE, splitBy: 'clip' });
    expect(again).toEqual(evaluate({ clips, probabilities, ...BASE, splitBy: 'clip' }));
  });

  it('rejects files that are not predictions, pointing at the bad line', () => {
    const dir = tempDir();
    const file = path.join(dir, 'p.csv');
    writeFileSync(file, 'path,label\nx,1\n');
    expect(() => readPredictionsCsv(file)).toThrow(/not an xp predictions file/);
    writeFileSync(file, 'path,client_id,gender,p_male,predicted,correct\nx.mp3,c,male,0.9,male,1\ny.mp3,c,man,0.9,male,1\n');
    expect(() => readPredictionsCsv(file)).toThrow(/p\.csv:3: malformed prediction row/);
  });

  it('parses RFC 4180 CSV with CRLF and quoted newlines', () => {
    expect(parseCsv('a,b\r\n"x\ny","1,2"\r\n\r\n')).toEqual([['a', 'b'], ['x\ny', '1,2']]);
  });
});
