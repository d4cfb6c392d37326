import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { searchStage } from '../../src/stages/search.ts';
import { applyAssignment, assignmentId, fromUnit, gridAssignments, parseSpace, quantizedValues } from '../../src/search/space.ts';
import type { SearchSpec } from '../../src/spec/types.ts';
import { tunedSpec } from './helpers.ts';

function problem(space: SearchSpec['space'], method: SearchSpec['method'] = 'random'): string {
  try {
    const spec = tunedSpec({ space, method });
    parseSpace(spec);
    if (method === 'grid') gridAssignments(parseSpace(spec));
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return (error as UserError).message + ' ' + (error as UserError).details.join(' ');
  }
  return '';
}

describe('search space', () => {
  it('parses the tuned experiment', () => {
    const space = parseSpace(tunedSpec());
    expect(space.dims.map((d) => `${d.key}:${d.kind}`)).toEqual([
      'model.conv.filters:categorical',
      'model.lstm.units:categorical',
      'train.lr:log_uniform',
      'train.batch_size:categorical',
      'model.dropout:uniform',
    ]);
  });

  it('rejects paths that are not in the spec, naming the key and suggesting one', () => {
    const message = problem({ 'model.lstm.unit': [32, 64] });
    expect(message).toMatch(/"model\.lstm\.unit" is not a path in the resolved spec/);
    expect(message).toMatch(/did you mean "model\.lstm\.units"/);
    expect(problem({ 'train.momentum': { uniform: [0.1, 0.9] } })).toMatch(/"train\.momentum" is not a path/);
  });

  it('rejects sections other than model and train', () => {
    expect(problem({ 'features.n_mfcc': [20, 40] })).toMatch(/features\.n_mfcc.*only model\.\* and train\.\*/);
  });

  it('rejects distributions that do not fit the value', () => {
    expect(problem({ 'train.batch_size': { uniform: [16, 64] } })).toMatch(/train\.batch_size.*is an integer/);
    expect(problem({ 'model.conv.filters': { int: [8, 64] } })).toMatch(/model\.conv\.filters.*needs a numeric setting.*a list/);
    expect(problem({ 'model.kind': { uniform: [0, 1] } })).toMatch(/model\.kind.*numeric/);
    expect(problem({ 'train.lr': { log_uniform: [0, 0.1] } })).toMatch(/train\.lr.*log_uniform needs low > 0/);
    expect(problem({ 'train.lr': { uniform: [0.1, 0.01] } })).toMatch(/train\.lr.*low < high/);
    expect(problem({ 'model.lstm.units': { int: [8.5, 64] } })).toMatch(/model\.lstm\.units.*integers/);
    expect(problem({ 'train.batch_size': { quantized: { range: [8, 64], step: 0.5 } } })).toMatch(/batch_size.*quantized step must be an integer/);
  });

  it('checks every value against the schema', () => {
    expect(problem({ 'model.dropout': { uniform: [0.2, 1.5] } })).toMatch(/model\.dropout.*1\.5.*must be < 1/);
    expect(problem({ 'model.kind': ['cnn', 'transformer'] })).toMatch(/model\.kind.*"transformer"/);
    expect(problem({ 'model.conv.filters': [[16, 32], 64] })).toMatch(/model\.conv\.filters.*64/);
    expect(problem({ 'train.batch_size': [32, 0] })).toMatch(/train\.batch_size.*0/);
  });

  it('rejects overlapping keys and asha over epochs', () => {
    expect(problem({ 'model.conv': [{ filters: [8], kernel: 3, pool: 2 }], 'model.conv.filters': [[8]] })).toMatch(/"model\.conv\.filters" lies inside "model\.conv"/);
    expect(problem({ 'train.epochs': [5, 10] }, 'asha')).toMatch(/train\.epochs.*asha/);
  });

  it('reports space problems when the run is planned (before upstream stages run)', () => {
    expect(() => searchStage.params(tunedSpec({ space: { 'model.lstm.unit': [1] } }) as never)).toThrow(/model\.lstm\.unit/);
  });

  it('grid: the exact cartesian product, no duplicates, last key fastest', () => {
    const spec = tunedSpec({
      method: 'grid',
      space: {
        'model.lstm.units': [32, 64, 32],
        'train.batch_size': { int: [16, 18] },
        'model.dropout': { quantized: { range: [0.1, 0.3], step: 0.1 } },
      },
    });
    const grid = gridAssignments(parseSpace(spec));
    expect(grid).toHaveLength(2 * 3 * 3);
    expect(new Set(grid.map(assignmentId)).size).toBe(grid.length);
    expect(grid[0]).toEqual({ 'model.lstm.units': 32, 'train.batch_size': 16, 'model.dropout': 0.1 });
    expect(grid[1]).toEqual({ 'model.lstm.units': 32, 'train.batch_size': 16, 'model.dropout': 0.2 });
    expect(grid[17]).toEqual({ 'model.lstm.units': 64, 'train.batch_size': 18, 'model.dropout': 0.3 });
    for (const units of [32, 64]) for (const b of [16, 17, 18]) for (const d of [0.1, 0.2, 0.3]) {
      expect(grid).toContainEqual({ 'model.lstm.units': units, 'train.batch_size': b, 'model.dropout': d });
    }
  });

  it('grid refuses continuous dimensions', () => {
    expect(problem({ 'train.lr': { log_uniform: [0.0001, 0.01] } }, 'grid')).toMatch(/train\.lr.*grid needs a finite set/);
  });

  it('quantized values are exact multiples', () => {
    expect(quantizedValues(0.1, 0.5, 0.1)).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(quantizedValues(10, 100, 25)).toEqual([25, 50, 75, 100]);
  });

  it('samples stay in range; log_uniform spreads over decades', () => {
    const [lr] = parseSpace(tunedSpec({ space: { 'train.lr': { log_uniform: [0.0001, 0.1] } } })).dims;
    const values = Array.from({ length: 1000 }, (_, i) => fromUnit(lr, (i + 0.5) / 1000) as number);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0.0001);
    expect(Math.max(...values)).toBeLessThanOrEqual(0.1);
    expect(values.filter((v) => v < 0.001).length).toBeGreaterThan(300);
  });

  it('applying a trial deep-sets into a copy of model and train', () => {
    const spec = tunedSpec();
    const before = JSON.stringify(spec);
    const config = applyAssignment(spec, { 'model.conv.filters': [32, 64], 'train.lr': 0.002 });
    expect(config.model.conv).toEqual({ ...spec.model.conv, filters: [32, 64] });
    expect(config.train.lr).toBe(0.002);
    expect(config.train.batch_size).toBe(spec.train.batch_size);
    expect(JSON.stringify(spec)).toBe(before);
  });
});
