import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Fingerprint } from '../../src/runner/fingerprint.ts';
import { RunStore } from '../../src/runner/runStore.ts';
import { useTempDirs } from '../fixtures/tempProject.ts';

const fingerprint = (kind: string): Fingerprint => ({ kind, implVersion: 1, params: { a: 1 }, seed: 7, inputs: {}, files: {}, libraries: {}, environment: {} });

describe('run fingerprints', () => {
  const tempDir = useTempDirs();

  it('are kept in one fingerprints.json per run, and read per stage', () => {
    const runs = new RunStore(tempDir());
    runs.saveFingerprints('r1', { ingest: fingerprint('ingest'), train: fingerprint('train') });
    expect(runs.fingerprint('r1', 'train')).toEqual(fingerprint('train'));
    expect(runs.fingerprint('r1', 'eval')).toBeUndefined();
    expect(runs.fingerprint('r2', 'train')).toBeUndefined();
  });

  it('are still read from the fingerprints/<stage>.json of runs recorded before', () => {
    const runs = new RunStore(tempDir());
    mkdirSync(path.join(runs.runDir('old'), 'fingerprints'), { recursive: true });
    writeFileSync(path.join(runs.runDir('old'), 'fingerprints', 'train.json'), JSON.stringify(fingerprint('train')));
    expect(runs.fingerprint('old', 'train')).toEqual(fingerprint('train'));
  });
});
