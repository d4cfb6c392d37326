import { BugError } from '../errors.ts';
import type { SpecLike, Stage } from '../stages/stage.ts';

/** One node of the DAG: a stage with the params the spec gives it. Keys come at execution. */
export interface PlanNode {
  /** The stage kind, or `<kind>@<seed>` for a per-seed replica. */
  id: string;
  stage: Stage;
  /** Ids of the nodes this one waits for. */
  needs: string[];
  /** Input name, as the stage reads it (its `needs` entry) → the node id that provides it. */
  inputs: Record<string, string>;
  params: unknown;
  seed: number | null;
  /** The spec this node was planned against: the run's, or a per-seed replica's (`seed` replaced). */
  spec: SpecLike;
}

/** The seeds a spec asks to repeat its per-seed stages over (empty: run once with `seed`). */
export function specSeeds(spec: SpecLike): number[] {
  return Array.isArray(spec.seeds) ? (spec.seeds as number[]) : [];
}

/** Id of a stage's node for one seed of a multi-seed spec. */
export const seedNodeId = (kind: string, seed: number): string => `${kind}@${seed}`;

/**
 * spec + available stages → the enabled stages in a topological order. The graph knows
 * nothing about what a stage does; it only orders them by `needs`.
 *
 * With `seeds: [s₁, …]`, each stage marked `perSeed` is planned once per seed against the spec with
 * `seed: sᵢ` (so its params, key and randomness all follow that seed); a per-seed node's needs
 * resolve to the same seed's replica where there is one, else to the shared node. Stages that are
 * not per-seed (ingest, features) run once, so every seed trains on the same split and features.
 */
export function planStages(spec: SpecLike, stages: readonly Stage[]): PlanNode[] {
  const enabled = stages.filter((stage) => stage.enabled?.(spec) ?? true);
  const byKind = new Map(enabled.map((stage) => [stage.kind, stage]));
  if (byKind.size !== enabled.length) throw new BugError('two stages share a kind');
  const seeds = specSeeds(spec);
  const needsOf = (stage: Stage, s: SpecLike) => (typeof stage.needs === 'function' ? stage.needs(s) : [...stage.needs]);
  const replicated = (stage: Stage) => Boolean(stage.perSeed) && seeds.length > 0;

  // Every node, before ordering: one per stage, or one per seed for replicated stages.
  const nodes = new Map<string, PlanNode>();
  for (const stage of enabled) {
    const variants: Array<{ id: string; spec: SpecLike; seed: number | null }> = replicated(stage)
      ? seeds.map((seed) => ({ id: seedNodeId(stage.kind, seed), spec: { ...spec, seed }, seed }))
      : [{ id: stage.kind, spec, seed: null }];
    for (const variant of variants) {
      const inputs: Record<string, string> = {};
      for (const need of needsOf(stage, variant.spec)) {
        const needed = byKind.get(need);
        let id: string;
        if (needed) id = replicated(needed) ? (variant.seed === null ? '' : seedNodeId(need, variant.seed)) : need;
        else id = need; // an explicit node id, e.g. `eval@7`
        if (!id) throw new BugError(`stage ${stage.kind} runs once but needs the per-seed stage ${need}; name its replicas`);
        inputs[need] = id;
      }
      nodes.set(variant.id, {
        id: variant.id,
        stage,
        needs: Object.values(inputs),
        inputs,
        params: stage.params(variant.spec),
        seed: stage.seed(variant.spec),
        spec: variant.spec,
      });
    }
  }
  for (const node of nodes.values()) {
    for (const need of node.needs) if (!nodes.has(need)) throw new BugError(`stage ${node.id} needs ${need}, which is not in the plan`);
  }

  const ordered: PlanNode[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (node: PlanNode, trail: string[]) => {
    if (state.get(node.id) === 'done') return;
    if (state.get(node.id) === 'visiting') throw new BugError(`stage cycle: ${[...trail, node.id].join(' → ')}`);
    state.set(node.id, 'visiting');
    for (const need of node.needs) visit(nodes.get(need)!, [...trail, node.id]);
    state.set(node.id, 'done');
    ordered.push(node);
  };
  for (const node of nodes.values()) visit(node, []);
  return ordered;
}
