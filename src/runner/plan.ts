import { BugError } from '../errors.ts';
import type { SpecLike, Stage } from '../stages/stage.ts';

/** One node of the DAG: a stage with the params the spec gives it. Keys come at execution. */
export interface PlanNode {
  id: string;
  stage: Stage;
  needs: string[];
  params: unknown;
  seed: number | null;
}

/**
 * spec + available stages → the enabled stages in a topological order. The graph knows
 * nothing about what a stage does; it only orders them by `needs`.
 */
export function planStages(spec: SpecLike, stages: readonly Stage[]): PlanNode[] {
  const enabled = stages.filter((stage) => stage.enabled?.(spec) ?? true);
  const byKind = new Map(enabled.map((stage) => [stage.kind, stage]));
  if (byKind.size !== enabled.length) throw new BugError('two stages share a kind');
  const needsOf = (stage: Stage) => (typeof stage.needs === 'function' ? stage.needs(spec) : [...stage.needs]);
  for (const stage of enabled) {
    for (const need of needsOf(stage)) {
      if (!byKind.has(need)) throw new BugError(`stage ${stage.kind} needs ${need}, which is not in the plan`);
    }
  }
  const ordered: PlanNode[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (stage: Stage, trail: string[]) => {
    if (state.get(stage.kind) === 'done') return;
    if (state.get(stage.kind) === 'visiting') {
      throw new BugError(`stage cycle: ${[...trail, stage.kind].join(' → ')}`);
    }
    state.set(stage.kind, 'visiting');
    for (const need of needsOf(stage)) visit(byKind.get(need)!, [...trail, stage.kind]);
    state.set(stage.kind, 'done');
    ordered.push({ id: stage.kind, stage, needs: needsOf(stage), params: stage.params(spec), seed: stage.seed(spec) });
  };
  for (const stage of enabled) visit(stage, []);
  return ordered;
}
