import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/spec/diagnostic.ts';
import { loadSpec, type SpecResult } from '../../src/spec/load.ts';
import { useTempDirs } from '../fixtures/tempProject.ts';

const tempDir = useTempDirs();

function files(contents: Record<string, string>): string {
  const dir = tempDir();
  for (const [name, text] of Object.entries(contents)) writeFileSync(path.join(dir, name), text);
  return dir;
}

function errors(result: SpecResult): string[] {
  if (result.ok) throw new Error('expected the spec to be rejected');
  return result.diagnostics.map(formatDiagnostic);
}

const BASE = `name: base
seed: 1
model:
  conv:
    filters: [16, 32, 64]
train:
  epochs: 3
  batch_size: 64
`;

describe('loading specs', () => {
  it('fills every default from the schema', () => {
    const dir = files({ 'a.yaml': 'name: a\n' });
    const result = loadSpec('a.yaml', { cwd: dir, env: {} });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.spec.seed).toBe(42);
    expect(result.value.spec.data.split).toEqual({ by: 'speaker', train: 0.7, val: 0.15, test: 0.15, min_val_speakers: 5 });
    expect(result.value.spec.features.n_mfcc).toBe(40);
    expect(result.value.spec.search).toBeUndefined();
  });

  it('reports three mistakes in one file as three located errors with hints (pinned text)', () => {
    const dir = files({
      'bad.yaml': `name: bad
train:
  batch_sise: 32
  lr: fast
data:
  split:
    by: speakers
`,
    });
    expect(errors(loadSpec('bad.yaml', { cwd: dir, env: {} }))).toEqual([
      [
        'bad.yaml:3:3: unknown key "batch_sise" in train (did you mean "batch_size"?)',
        '  3 |   batch_sise: 32',
        '    |   ^^^^^^^^^^',
      ].join('\n'),
      ['bad.yaml:4:7: train.lr must be number; got "fast"', '  4 |   lr: fast', '    |       ^^^^'].join('\n'),
      [
        'bad.yaml:7:9: data.split.by must be one of speaker, clip, release; got "speakers" (did you mean "speaker"?)',
        '  7 |     by: speakers',
        '    |         ^^^^^^^^',
      ].join('\n'),
    ]);
  });

  it('points at YAML syntax errors', () => {
    const dir = files({ 'broken.yaml': 'name: x\ntrain: [1, 2\n' });
    const [first] = errors(loadSpec('broken.yaml', { cwd: dir, env: {} }));
    expect(first).toMatch(/^broken\.yaml:\d+:\d+: YAML syntax error: /);
  });

  it('reports a duplicate key', () => {
    const dir = files({ 'dup.yaml': 'name: x\nseed: 1\nseed: 2\n' });
    expect(errors(loadSpec('dup.yaml', { cwd: dir, env: {} }))[0]).toContain('dup.yaml:3:1: YAML syntax error: Map keys must be unique');
  });

  it('collapses a oneOf failure into one message that says what is expected', () => {
    const dir = files({ 'aug.yaml': 'name: x\naugment:\n  pitch_semitones: 3\n' });
    expect(errors(loadSpec('aug.yaml', { cwd: dir, env: {} }))).toEqual([
      ['aug.yaml:3:20: augment.pitch_semitones must be [low, high] or null; got 3', '  3 |   pitch_semitones: 3', '    |                    ^'].join('\n'),
    ]);
  });

  it('extends another file: deep merge, lists replaced, child wins', () => {
    const dir = files({
      'base.yaml': BASE,
      'child.yaml': 'extends: ./base.yaml\nname: child\nmodel:\n  conv:\n    filters: [8]\ntrain:\n  epochs: 5\n',
    });
    const result = loadSpec('child.yaml', { cwd: dir, env: {} });
    if (!result.ok) throw new Error(errors(result).join('\n'));
    const { spec, files: chain } = result.value;
    expect(spec.name).toBe('child');
    expect(spec.seed).toBe(1);
    expect(spec.model.conv.filters).toEqual([8]);
    expect(spec.train.epochs).toBe(5);
    expect(spec.train.batch_size).toBe(64);
    expect(chain).toEqual(['child.yaml', 'base.yaml']);
    expect('extends' in spec).toBe(false);
  });

  it('locates an error in the parent file when the parent wrote the bad value', () => {
    const dir = files({ 'base.yaml': 'name: base\ntrain:\n  epochs: 0\n', 'child.yaml': 'extends: base.yaml\nname: child\n' });
    expect(errors(loadSpec('child.yaml', { cwd: dir, env: {} }))[0].split('\n')[0]).toBe('base.yaml:3:11: train.epochs must be >= 1; got 0');
  });

  it('reports an extends cycle at the extends key', () => {
    const dir = files({ 'a.yaml': 'extends: ./b.yaml\nname: a\n', 'b.yaml': 'extends: ./a.yaml\nname: b\n' });
    expect(errors(loadSpec('a.yaml', { cwd: dir, env: {} }))[0].split('\n')[0]).toBe('b.yaml:1:10: extends cycle: a.yaml → b.yaml → a.yaml');
  });

  it('reports a missing parent at the extends value', () => {
    const dir = files({ 'a.yaml': 'extends: ./nope.yaml\nname: a\n' });
    expect(errors(loadSpec('a.yaml', { cwd: dir, env: {} }))[0].split('\n')[0]).toBe('a.yaml:1:10: cannot read spec nope.yaml: ENOENT');
  });

  it('applies --set overrides typed by the schema', () => {
    const dir = files({ 'base.yaml': BASE });
    const result = loadSpec('base.yaml', {
      cwd: dir,
      env: {},
      overrides: ['train.lr=5e-4', 'model.conv.filters=[4, 8]', 'name=007', 'features.fmax=null', 'search.space.model.lstm.units=[32, 64]'],
    });
    if (!result.ok) throw new Error(errors(result).join('\n'));
    expect(result.value.spec.train.lr).toBe(0.0005);
    expect(result.value.spec.model.conv.filters).toEqual([4, 8]);
    expect(result.value.spec.name).toBe('007');
    expect(result.value.spec.features.fmax).toBeNull();
    expect(result.value.spec.search?.space).toEqual({ 'model.lstm.units': [32, 64] });
  });

  it('rejects --set of an unknown path or a mistyped value (pinned text)', () => {
    const dir = files({ 'base.yaml': BASE });
    expect(errors(loadSpec('base.yaml', { cwd: dir, env: {}, overrides: ['train.batchsize=3', 'train.lr=abc', 'oops'] }))).toEqual([
      '--set train.batchsize=3: unknown spec path "train.batchsize" (did you mean "train.batch_size"?)',
      '--set oops: expected path=value, e.g. --set train.lr=0.0005',
      '--set train.lr=abc: train.lr must be number; got "abc"',
    ]);
  });

  it('expands ${VAR:-default} in strings, and reports unset variables without a default', () => {
    const dir = files({ 'env.yaml': 'name: x\ndata:\n  root: ${CV_ROOT:-data/cv-mini}\n  tsv: ${CV_TSV}\n' });
    const withEnv = loadSpec('env.yaml', { cwd: dir, env: { CV_ROOT: '/corpora/cv17/en', CV_TSV: 'train.tsv' } });
    if (!withEnv.ok) throw new Error(errors(withEnv).join('\n'));
    expect(withEnv.value.spec.data.root).toBe('/corpora/cv17/en');
    expect(withEnv.value.spec.data.tsv).toBe('train.tsv');
    expect(errors(loadSpec('env.yaml', { cwd: dir, env: {} }))).toEqual([
      ['env.yaml:4:8: environment variable CV_TSV is not set (set it, or give a default: ${CV_TSV:-value})', '  4 |   tsv: ${CV_TSV}', '    |        ^^^^^^^^^'].join('\n'),
    ]);
  });

  it('validates the search space syntax', () => {
    const dir = files({
      's.yaml': 'name: s\nsearch:\n  space:\n    train.lr: { log_uniform: [0.0001] }\n    Model: [1, 2]\n',
    });
    const found = errors(loadSpec('s.yaml', { cwd: dir, env: {} })).map((e) => e.split('\n')[0]);
    expect(found).toEqual([
      's.yaml:4:30: search.space.train.lr.log_uniform must NOT have fewer than 2 items',
      's.yaml:5:5: search.space key "Model" must be a dotted spec path such as "model.lstm.units"',
    ]);
  });
});

describe('the precompiled validator', () => {
  it('is generated from the current schema (run `npx tsx scripts/generate-validator.ts` after editing it)', async () => {
    const { readFileSync } = await import('node:fs');
    const { createHash } = await import('node:crypto');
    const { SCHEMA_PATH, GENERATED_VALIDATOR } = await import('../../src/spec/schema.ts');
    const generated = readFileSync(GENERATED_VALIDATOR, 'utf8');
    const hash = createHash('sha256').update(readFileSync(SCHEMA_PATH, 'utf8')).digest('hex');
    expect(generated).toContain(`module.exports.schemaHash = "${hash}"`);
  });
});
