import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSpec, type LoadOptions } from '../../src/spec/load.ts';
import { SpecCache } from '../../src/spec/specCache.ts';
import { useTempDirs } from '../fixtures/tempProject.ts';

const tempDir = useTempDirs();

const PARENT = 'name: parent\nseed: 3\ntrain:\n  epochs: 4\n';
const CHILD = 'extends: ./parent.yaml\nname: child\ndata:\n  root: ${DATA_ROOT:-data/cv-mini}\n';

function project(): { dir: string; options: LoadOptions } {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'parent.yaml'), PARENT);
  writeFileSync(path.join(dir, 'child.yaml'), CHILD);
  return { dir, options: { cwd: dir, cacheDir: path.join(dir, '.xp', 'spec-cache'), env: {} } };
}

function load(file: string, options: LoadOptions) {
  const result = loadSpec(file, options);
  if (!result.ok) throw new Error(`expected ${file} to load`);
  return result.value;
}

/** Rewrite the spec name in every cache entry, so a load that returns one is seen to come from the cache. */
function markEntry(cacheDir: string): void {
  for (const name of readdirSync(cacheDir)) {
    const file = path.join(cacheDir, name);
    const entry = JSON.parse(readFileSync(file, 'utf8'));
    entry.loaded.spec.name = 'from-the-cache';
    writeFileSync(file, JSON.stringify(entry));
  }
}

describe('the spec cache', () => {
  it('gives back what a load without it gives, and reuses it while nothing changed', () => {
    const { dir, options } = project();
    const fresh = load('child.yaml', { cwd: dir, env: {} });
    expect(load('child.yaml', options)).toEqual(fresh);
    expect(readdirSync(options.cacheDir!)).toHaveLength(1);
    markEntry(options.cacheDir!);
    expect(load('child.yaml', options).spec.name).toBe('from-the-cache');
    // An unrelated variable does not matter.
    expect(load('child.yaml', { ...options, env: { OTHER: 'x' } }).spec.name).toBe('from-the-cache');
  });

  it('loads anew when a file of the extends chain, a variable it reads, or the overrides change', () => {
    const { dir, options } = project();
    load('child.yaml', options);
    markEntry(options.cacheDir!);
    expect(load('child.yaml', { ...options, overrides: ['train.epochs=9'] }).spec.train.epochs).toBe(9);
    expect(load('child.yaml', options).spec.name).toBe('from-the-cache');
    expect(load('child.yaml', { ...options, env: { DATA_ROOT: '/data/cv-22' } }).spec.data.root).toBe('/data/cv-22');

    markEntry(options.cacheDir!);
    writeFileSync(path.join(dir, 'parent.yaml'), PARENT.replace('epochs: 4', 'epochs: 5'));
    const edited = load('child.yaml', options);
    expect(edited.spec.name).toBe('child');
    expect(edited.spec.train.epochs).toBe(5);
  });

  it('keeps nothing for a spec with problems, which are reported as without it', () => {
    const { dir, options } = project();
    writeFileSync(path.join(dir, 'bad.yaml'), 'name: bad\ntrain: { epochs: -1 }\n');
    const withCache = loadSpec('bad.yaml', options);
    expect(withCache).toEqual(loadSpec('bad.yaml', { cwd: dir, env: {} }));
    expect(withCache.ok).toBe(false);
    expect(existsSync(options.cacheDir!)).toBe(false);
  });

  it('prunes (for xp gc) only the entries that can no longer be used', () => {
    const { dir, options } = project();
    writeFileSync(path.join(dir, 'other.yaml'), 'name: other\n');
    load('child.yaml', options);
    load('other.yaml', options);
    const cache = new SpecCache(options.cacheDir!);
    expect(cache.prune(false)).toEqual([]);
    writeFileSync(path.join(dir, 'parent.yaml'), PARENT.replace('seed: 3', 'seed: 4'));
    expect(cache.prune(true)).toHaveLength(1);
    expect(readdirSync(options.cacheDir!)).toHaveLength(2);
    expect(cache.prune(false)).toHaveLength(1);
    expect(readdirSync(options.cacheDir!)).toHaveLength(1);
    expect(load('other.yaml', options).spec.name).toBe('other');
  });
});
