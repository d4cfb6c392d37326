import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { RunEvents } from '../../src/runner/events.ts';
import { openProject } from '../../src/runner/project.ts';
import { runExperiment } from '../../src/runner/run.ts';
import type { Spec } from '../../src/spec/types.ts';
import { repoRoot } from '../fixtures/paths.ts';
import { useXpRoot, xp } from '../fixtures/xpProject.ts';
import { toyStages, type ToySpec } from '../fixtures/toyPipeline.ts';

const currentRoot = useXpRoot();
let root: string;
beforeEach(() => {
  root = currentRoot();
});


async function toyRun(toy: Partial<ToySpec['toy']> = {}) {
  if (!existsSync(path.join(root, 'numbers.txt'))) writeFileSync(path.join(root, 'numbers.txt'), '1 2 3\n');
  const spec: ToySpec = { name: 'toy', seed: 7, toy: { input: 'numbers.txt', factor: 2, label: 'a', ...toy } };
  const { record } = await runExperiment({
    project: openProject(root),
    loaded: { spec: spec as unknown as Spec, files: ['toy.yaml'], overrides: [] },
    stages: toyStages,
    events: new RunEvents(),
    signal: new AbortController().signal,
    command: ['test'],
  });
  return record;
}

describe('xp validate', () => {
  it('prints every problem as file:line:col and exits 2', async () => {
    writeFileSync(path.join(root, 'bad.yaml'), 'name: bad\ntrain:\n  batch_sise: 32\n  lr: fast\ndata:\n  split:\n    by: speakers\n');
    const { code, stderr } = await xp('validate', path.join(root, 'bad.yaml'));
    expect(code).toBe(2);
    expect(stderr.match(/^bad\.yaml:\d+:\d+: /gm)).toHaveLength(3);
    expect(stderr).toContain('3 problems in bad.yaml');
  });

  it('says ok and exits 0 for a good spec; --json gives structured diagnostics', async () => {
    writeFileSync(path.join(root, 'good.yaml'), 'name: good\n');
    writeFileSync(path.join(root, 'bad.yaml'), 'name: bad\nseed: -1\n');
    expect(await xp('validate', path.join(root, 'good.yaml'))).toMatchObject({ code: 0, stdout: 'ok  good.yaml\n' });
    const { code, stdout } = await xp('validate', '--json', path.join(root, 'bad.yaml'));
    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toEqual([
      { file: 'bad.yaml', ok: false, diagnostics: [{ file: 'bad.yaml', line: 2, column: 7, message: 'seed must be >= 0; got -1', hint: null }] },
    ]);
  });
});

describe('xp run', () => {
  it('refuses a bad spec with exit 2 and writes no run record', async () => {
    writeFileSync(path.join(root, 'bad.yaml'), 'name: bad\nmodel:\n  kind: transformer\n');
    const { code, stderr } = await xp('run', path.join(root, 'bad.yaml'));
    expect(code).toBe(2);
    expect(stderr).toContain('bad.yaml:3:9: model.kind must be one of cnn, cnn-lstm, lstm-cnn, logreg, mlp; got "transformer"');
    expect(existsSync(path.join(root, 'runs'))).toBe(false);
  });

  it('prints its version with --version (and -V), exit 0', async () => {
    const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    expect(await xp('--version')).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect((await xp('-V')).stdout).toBe(`${version}\n`);
  });

  it('rejects an unknown command or flag with exit 2', async () => {
    expect((await xp('frobnicate')).code).toBe(2);
    expect((await xp('run', '--bogus')).code).toBe(2);
  });
});

describe('inspecting runs', () => {
  it('xp ls lists runs with status, headline metric and date; --json is machine-readable', async () => {
    const record = await toyRun();
    const { code, stdout } = await xp('ls');
    expect(code).toBe(0);
    expect(stdout).toContain(record.id);
    expect(stdout).toContain('sum=12');
    const json = JSON.parse((await xp('ls', '--json')).stdout);
    expect(json[0]).toMatchObject({ id: record.id, spec: 'toy', status: 'done', metrics: { 'report.sum': 12 } });
  });

  it('xp show resolves latest, spec@latest and unique prefixes; unknown refs exit 2', async () => {
    const first = await toyRun();
    const second = await toyRun({ factor: 3 });
    expect((await xp('show', 'latest')).stdout).toContain(`run      ${second.id}`);
    expect((await xp('show', 'toy@latest')).stdout).toContain(`run      ${second.id}`);
    expect(JSON.parse((await xp('show', first.id, '--json')).stdout).id).toBe(first.id);
    const missing = await xp('show', 'nope@latest');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no runs of spec "nope"');
  });

  it('xp why names the exact key inputs that changed since the previous run', async () => {
    await toyRun();
    writeFileSync(path.join(root, 'numbers.txt'), '1 2 4\n');
    await toyRun({ factor: 3 });
    const scale = await xp('why', 'latest', 'scale');
    expect(scale.code).toBe(0);
    expect(scale.stdout).toMatch(/changed since .*:\n\s+params\.factor: 2 → 3\n\s+inputs\.source: [0-9a-f]{12} → [0-9a-f]{12}/);
    const source = await xp('why', 'latest', 'source');
    expect(source.stdout).toContain('numbers.txt: content changed');
    const unchanged = await xp('why', 'latest', 'report');
    expect(unchanged.stdout).toMatch(/changed since .*:\n\s+inputs\.scale:/);
  });

  it('xp gc removes only entries no run references, and --dry-run removes nothing', async () => {
    const kept = await toyRun();
    const doomed = await toyRun({ factor: 5 });
    const { runs, cache } = openProject(root);
    runs.remove(doomed.id);
    const before = cache.keys().length;
    expect(before).toBe(5); // source shared; scale and report twice
    const dry = await xp('gc', '--dry-run', '--json');
    expect(JSON.parse(dry.stdout).entries.sort()).toEqual([doomed.stages.scale.key, doomed.stages.report.key].sort());
    expect(cache.keys().length).toBe(before);
    await xp('gc');
    expect(cache.keys().sort()).toEqual(Object.values(kept.stages).map((s) => s.key).sort());
  });
});
