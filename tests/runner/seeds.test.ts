import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunEvents } from '../../src/runner/events.ts';
import { planStages, seedNodeId, specSeeds } from '../../src/runner/plan.ts';
import { openProject } from '../../src/runner/project.ts';
import { runExperiment } from '../../src/runner/run.ts';
import type { Spec } from '../../src/spec/types.ts';
import type { SpecLike, Stage } from '../../src/stages/stage.ts';
import { useTempDirs } from '../fixtures/tempProject.ts';
import { sourceStage, type ToySpec } from '../fixtures/toyPipeline.ts';

const tempDir = useTempDirs();

/** Per-seed: the numbers times the factor, plus the seed (so each seed's result differs). */
const noisyStage: Stage<{ factor: number }, { sum: number }> = {
  kind: 'noisy',
  implVersion: 1,
  needs: ['source'],
  perSeed: true,
  params: (spec) => ({ factor: (spec as ToySpec).toy.factor }),
  seed: (spec) => (spec as ToySpec).seed,
  async run(ctx, inputs) {
    const numbers = JSON.parse(readFileSync(path.join(inputs.source.dir, 'numbers.json'), 'utf8')) as number[];
    return { sum: numbers.reduce((a, n) => a + n * ctx.params.factor, 0) + ctx.seed! };
  },
  metrics: (value) => ({ sum: value.sum }),
};

/** Once, over every seed's result. */
const totalStage: Stage<{ seeds: number[] }, { total: number }> = {
  kind: 'total',
  implVersion: 1,
  enabled: (spec) => specSeeds(spec).length > 0,
  needs: (spec) => specSeeds(spec).map((seed) => seedNodeId('noisy', seed)),
  params: (spec) => ({ seeds: specSeeds(spec) }),
  seed: () => null,
  async run(ctx, inputs) {
    return { total: ctx.params.seeds.reduce((a, seed) => a + (inputs[seedNodeId('noisy', seed)].value as { sum: number }).sum, 0) };
  },
  metrics: (value) => ({ total: value.total }),
};

const stages = [sourceStage, noisyStage, totalStage] as Stage[];
const spec = (seeds?: number[]): ToySpec & SpecLike => ({ name: 'toy', seed: 7, ...(seeds ? { seeds } : {}), toy: { input: 'numbers.txt', factor: 2, label: 'a' } });

async function run(root: string, toy: SpecLike) {
  const result = await runExperiment({
    project: openProject(root),
    loaded: { spec: toy as unknown as Spec, files: ['toy.yaml'], overrides: [] },
    stages,
    events: new RunEvents(),
    signal: new AbortController().signal,
    command: ['test'],
  });
  const stagesById = result.record.stages;
  return { statuses: Object.fromEntries(Object.entries(stagesById).map(([id, s]) => [id, s.status])), keys: Object.fromEntries(Object.entries(stagesById).map(([id, s]) => [id, s.key])), metrics: result.record.metrics };
}

describe('multi-seed plans', () => {
  it('replicates per-seed stages once per seed and shares the rest', () => {
    const plan = planStages(spec([1, 2, 3]), stages);
    expect(plan.map((n) => n.id)).toEqual(['source', 'noisy@1', 'noisy@2', 'noisy@3', 'total']);
    const replica = plan.find((n) => n.id === 'noisy@2')!;
    expect(replica.seed).toBe(2);
    expect(replica.spec.seed).toBe(2);
    expect(replica.inputs).toEqual({ source: 'source' });
    expect(plan.find((n) => n.id === 'total')!.needs).toEqual(['noisy@1', 'noisy@2', 'noisy@3']);
    // Without seeds the plan is the plain one.
    expect(planStages(spec(), stages).map((n) => n.id)).toEqual(['source', 'noisy']);
  });

  it('runs each seed from the same upstream artifact, caches seeds individually, and a seed key equals the single-seed key', async () => {
    const root = tempDir();
    writeFileSync(path.join(root, 'numbers.txt'), '1 2 3\n');
    const three = await run(root, spec([1, 2, 3]));
    expect(three.statuses).toEqual({ source: 'done', 'noisy@1': 'done', 'noisy@2': 'done', 'noisy@3': 'done', total: 'done' });
    expect(three.metrics['noisy@2.sum']).toBe(14);
    expect(three.metrics['total.total']).toBe(13 + 14 + 15);

    const four = await run(root, spec([1, 2, 3, 4]));
    expect(four.statuses).toEqual({ source: 'cached', 'noisy@1': 'cached', 'noisy@2': 'cached', 'noisy@3': 'cached', 'noisy@4': 'done', total: 'done' });
    expect(four.metrics['total.total']).toBe(13 + 14 + 15 + 16);

    const single = await run(root, { ...spec(), seed: 3 });
    // The plain run with seed 3 is the same computation as seed 3's replica: a cache hit.
    expect(single.statuses).toEqual({ source: 'cached', noisy: 'cached' });
    expect(single.keys.noisy).toBe(three.keys['noisy@3']);
  });
});
