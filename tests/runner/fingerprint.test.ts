import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { absolutePath, childPath, diffFingerprints, fingerprintKey, fingerprintPath, type Fingerprint } from '../../src/runner/fingerprint.ts';
import { canonicalJson } from '../../src/util/canonicalJson.ts';
import { RunEvents } from '../../src/runner/events.ts';
import { openProject } from '../../src/runner/project.ts';
import { runExperiment } from '../../src/runner/run.ts';
import type { Spec } from '../../src/spec/types.ts';
import { useTempDirs } from '../fixtures/tempProject.ts';
import { toyStages } from '../fixtures/toyPipeline.ts';

const tempDir = useTempDirs();

const FINGERPRINT: Fingerprint = {
  kind: 'features',
  implVersion: 1,
  params: { kind: 'mfcc', n_mfcc: 40, frames: 300 },
  seed: 42,
  inputs: { ingest: 'a'.repeat(64) },
  files: { 'data/cv-mini/validated.tsv': 'b'.repeat(64) },
  libraries: { 'fft.js': '4.0.4' },
  environment: {},
};

describe('fingerprints', () => {
  it('serialises canonically: key order and -0 do not matter', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: -0, c: null }], e: undefined })).toBe('{"a":[2,{"c":null,"d":0}],"b":1}');
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
    expect(() => canonicalJson({ x: NaN })).toThrow(/non-finite/);
  });

  // Pinned: if this changes, every cache entry users have is invalidated. Change it only on purpose.
  it('has a pinned key for a fixed fingerprint', () => {
    expect(fingerprintKey(FINGERPRINT)).toBe('e4f374a208bad61d418c42d452b759321c765720d9b7aa4684d8e58e1dfa6864');
  });

  it('changes the key when any field changes', () => {
    const variants: Fingerprint[] = [
      { ...FINGERPRINT, implVersion: 2 },
      { ...FINGERPRINT, params: { kind: 'mfcc', n_mfcc: 64, frames: 300 } },
      { ...FINGERPRINT, seed: 43 },
      { ...FINGERPRINT, inputs: { ingest: 'c'.repeat(64) } },
      { ...FINGERPRINT, files: { 'data/cv-mini/validated.tsv': 'd'.repeat(64) } },
      { ...FINGERPRINT, libraries: { 'fft.js': '4.0.5' } },
      { ...FINGERPRINT, environment: { backend: 'wasm' } },
    ];
    const keys = new Set([fingerprintKey(FINGERPRINT), ...variants.map(fingerprintKey)]);
    expect(keys.size).toBe(variants.length + 1);
  });

  it('diffs two fingerprints down to the changed leaves', () => {
    const after = { ...FINGERPRINT, params: { kind: 'mfcc', n_mfcc: 64, frames: 300 }, inputs: { ingest: 'c'.repeat(64) } };
    expect(diffFingerprints(FINGERPRINT, after)).toEqual([
      { path: 'params.n_mfcc', before: 40, after: 64 },
      { path: 'inputs.ingest', before: 'a'.repeat(64), after: 'c'.repeat(64) },
    ]);
  });

  it('names files relative to the project root, so clones elsewhere share keys', () => {
    expect(fingerprintPath('/p/data/x.tsv', '/p')).toBe('data/x.tsv');
    expect(fingerprintPath('data/x.tsv', '/p')).toBe('data/x.tsv');
    expect(fingerprintPath('/elsewhere/x.tsv', '/p')).toBe('/elsewhere/x.tsv');
  });

  // Pinned: the toy source stage's key for fixed file content, through the real runner.
  it('gives a pinned stage key for a fixed input file, wherever the project lives', async () => {
    const keys: string[] = [];
    for (let i = 0; i < 2; i++) {
      const root = tempDir();
      writeFileSync(path.join(root, 'numbers.txt'), '1 2 3\n');
      const spec = { name: 'toy', seed: 7, toy: { input: 'numbers.txt', factor: 2, label: 'a' } };
      const { record } = await runExperiment({
        project: openProject(root),
        loaded: { spec: spec as unknown as Spec, files: ['toy.yaml'], overrides: [] },
        stages: toyStages,
        events: new RunEvents(),
        signal: new AbortController().signal,
        command: [],
      });
      keys.push(record.stages.source.key!, record.stages.scale.key!);
    }
    expect(keys.slice(0, 2)).toEqual(keys.slice(2));
    expect(keys.slice(0, 2)).toEqual(['e078909b1cce8e45a801ac4143e82d4aeb0c06a841012fedf0471dd8b1f2869a', '9dd5d943e9fa10d6e3c89c17e08d5c529f0955c617e708e3a6b69af34d512fb1']);
  });
});

describe('the fast paths of absolutePath and childPath', () => {
  const names = ['a.mp3', 'clips/a.mp3', 'a b/c.mp3', '.hidden', '..x', 'x..', './a', '../a', 'a/./b', 'a/../b', 'a//b', 'a/', '.', '..', '', '/abs/a', '/abs//a', '/abs/./a', '/'];
  const roots = ['/tmp/project', '/', '/tmp/project/', '/tmp//project', '/tmp/./project', 'relative/root', ''];

  it('give what path.resolve gives, for every mix of clean and unclean paths', () => {
    for (const root of roots.filter((r) => r !== '')) {
      for (const file of names) expect(absolutePath(file, root), `${root} + ${file}`).toBe(path.resolve(root, file));
    }
    for (const file of names) expect(absolutePath(file), file).toBe(path.resolve(file));
  });

  it('give what path.join gives', () => {
    for (const dir of ['data/cv-mini/clips', '/data/cv-22/clips', 'clips', '.', '', '/', 'data/'].map((d) => (d === '' ? d : path.join(d)))) {
      for (const name of names) expect(childPath(dir, name), `${dir} + ${name}`).toBe(path.join(dir, name));
    }
  });
});
