import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { openProject } from '../../src/runner/project.ts';
import { miniSpec, writeMiniCorpus } from '../fixtures/miniCorpus.ts';
import { useXpRoot, xp } from '../fixtures/xpProject.ts';

const currentRoot = useXpRoot();
let root: string;
beforeEach(() => {
  root = currentRoot();
});


describe('xp predict', () => {
  it('classifies clips with a run trained on the wasm engine; exit 2 names an undecodable file, others still reported', async () => {
    const { root: corpus } = writeMiniCorpus(root, 6);
    const spec = path.join(root, 'p.yaml');
    writeFileSync(spec, miniSpec('p').replace('  subset: { male: 16, female: 16 }', '  subset: { male: 6, female: 6 }'));
    const run = await xp('run', spec, '--set', 'engine.backend=wasm', '--set', 'train.epochs=1');
    expect(run.code, run.stderr).toBe(0);
    const record = openProject(root).runs.resolve('latest');
    expect(record.stages.train.status).toBe('done');

    const clips = readdirSync(path.join(corpus, 'clips')).slice(0, 2).map((c) => path.join(corpus, 'clips', c));
    const ok = await xp('predict', 'latest', ...clips);
    expect(ok.code, ok.stderr).toBe(0);
    const lines = ok.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const [i, line] of lines.entries()) expect(line).toMatch(new RegExp(`^${clips[i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+(male|female)\\s+p=\\d\\.\\d\\d$`));

    const json = await xp('predict', 'latest', clips[0], '--json');
    const parsed = JSON.parse(json.stdout) as { backend: string; results: Array<{ path: string; label: string; p: number }> };
    expect(parsed.backend).toBe('wasm');
    expect(parsed.results[0].p).toBeGreaterThan(0);
    expect(parsed.results[0].p).toBeLessThan(1);
    expect(parsed.results[0].label).toBe(lines[0].includes('female') ? 'female' : 'male');

    const bad = path.join(root, 'not-audio.mp3');
    writeFileSync(bad, 'this is not an mp3');
    const missing = path.join(root, 'missing.mp3');
    const failed = await xp('predict', 'latest', clips[0], bad);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain('not-audio.mp3');
    expect(failed.stdout).toContain(clips[0]);
    const failed2 = await xp('predict', 'latest', missing);
    expect(failed2.code).toBe(2);
    expect(failed2.stderr).toContain('missing.mp3');
  }, 120_000);
});
