import { seedNodeId, specSeeds } from '../runner/plan.ts';
import type { Spec } from '../spec/types.ts';
import type { EvalValue } from './eval.ts';
import type { SpecLike, Stage } from './stage.ts';

interface SeedsParams {
  seeds: number[];
  confidence: number;
}

export interface SeedsValue {
  seeds: number[];
  /** Each seed's test metrics (eval.<m>), in seed order. */
  perSeed: Record<string, number>[];
  /** Per metric: mean, sample sd and the t interval of the mean across seeds. */
  summary: Record<string, { mean: number; sd: number | null; lo: number | null; hi: number | null }>;
}

const spec = (s: SpecLike) => s as unknown as Spec;
/** Bootstrap bounds, counts and confusion cells: not results to put an interval on. */
const NOT_AVERAGED = /(_lo|_hi)$|^(n|speakers|bootstrap_resamples|bootstrap_skipped|tp|fp|tn|fn)$/;

/**
 * `seeds: [...]`: the per-seed eval results side by side, and each metric's mean ± sd and
 * confidence interval across seeds. The interval is Student's t over the seed means: it covers
 * training randomness only — the test-set sampling noise is each seed's own bootstrap interval.
 */
export const seedsStage: Stage<SeedsParams, SeedsValue> = {
  kind: 'seeds',
  implVersion: 2,
  enabled: (s) => specSeeds(s).length > 0,
  needs: (s) => specSeeds(s).map((seed) => seedNodeId('eval', seed)),
  params: (s) => ({ seeds: specSeeds(s), confidence: spec(s).eval.confidence }),
  seed: () => null,
  async run(ctx, inputs) {
    // Loaded when the stage runs, not for its key.
    const [{ METRIC_NAMES }, { meanInterval }] = await Promise.all([import('../eval/metrics.ts'), import('../eval/studentT.ts')]);
    const { seeds, confidence } = ctx.params;
    const perSeed = seeds.map((seed) => (inputs[seedNodeId('eval', seed)].value as EvalValue).metrics);
    const names = Object.keys(perSeed[0] ?? {}).filter((name) => !NOT_AVERAGED.test(name) && perSeed.every((m) => Number.isFinite(m[name])));
    const summary = Object.fromEntries(
      names.map((name) => {
        const s = meanInterval(perSeed.map((m) => m[name]), confidence);
        // A rate's interval stays within [0, 1] (the t interval does not know the bound).
        if ((METRIC_NAMES as readonly string[]).includes(name) && s.lo !== null && s.hi !== null) Object.assign(s, { lo: Math.max(0, s.lo), hi: Math.min(1, s.hi) });
        return [name, s];
      }),
    );
    const pct = (x: number | null) => (x === null ? '–' : (x * 100).toFixed(1));
    const acc = summary.accuracy;
    if (acc) ctx.log(`test accuracy over ${seeds.length} seeds: ${pct(acc.mean)} ± ${pct(acc.sd)} % (${confidence * 100}% CI ${pct(acc.lo)}–${pct(acc.hi)})`);
    return { seeds, perSeed, summary };
  },
  metrics: (value) => {
    const metrics: Record<string, number> = { seeds: value.seeds.length };
    const first = value.perSeed[0] ?? {};
    for (const name of ['n', 'speakers']) if (Number.isFinite(first[name])) metrics[name] = first[name];
    for (const [name, s] of Object.entries(value.summary)) {
      metrics[`${name}_mean`] = s.mean;
      if (s.sd !== null) metrics[`${name}_sd`] = s.sd;
      if (s.lo !== null) metrics[`${name}_lo`] = s.lo;
      if (s.hi !== null) metrics[`${name}_hi`] = s.hi;
    }
    return metrics;
  },
};
