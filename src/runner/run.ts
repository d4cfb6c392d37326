import { hostname } from 'node:os';
import { isAbortError, UserError } from '../errors.ts';
import type { LoadedSpec } from '../spec/types.ts';
import type { SpecLike, Stage } from '../stages/stage.ts';
import { environmentFacts, gitState, type GitState } from './environment.ts';
import type { RunEvents, RunStatus } from './events.ts';
import { executePlan, type StageOutcome } from './execute.ts';
import type { Fingerprint } from './fingerprint.ts';
import { planStages } from './plan.ts';
import type { Project } from './project.ts';
import type { RunRecord } from './runStore.ts';

export interface RunOptions {
  project: Project;
  loaded: LoadedSpec;
  stages: readonly Stage[];
  events: RunEvents;
  signal: AbortSignal;
  command: string[];
  concurrency?: number;
  /** The project's git state, when the caller started reading it early (it takes a spawn). */
  git?: Promise<GitState>;
}

export interface RunResult {
  record: RunRecord;
  outcomes: Map<string, StageOutcome>;
  /** A stage failed because of the user's input (bad data, missing file): exit 2. */
  badInput: boolean;
}

/**
 * spec → plan → execute → record. The run record is rewritten (atomically) whenever a stage
 * starts or finishes work, so a run killed at any moment leaves a readable record of how far
 * it got; a stage that comes from the cache (or is skipped) is recorded with the next write.
 */
export async function runExperiment(options: RunOptions): Promise<RunResult> {
  const { project, loaded, events, signal } = options;
  const spec = loaded.spec as unknown as SpecLike;
  const plan = planStages(spec, options.stages);
  const id = project.runs.newId(loaded.spec.name);
  const record: RunRecord = {
    id,
    spec: loaded.spec.name,
    specFile: loaded.files[0],
    specFiles: loaded.files,
    overrides: loaded.overrides,
    status: 'running',
    pid: process.pid,
    host: hostname(),
    createdAt: new Date().toISOString(),
    command: options.command,
    resolvedSpec: loaded.spec,
    stages: Object.fromEntries(plan.map((node) => [node.id, { status: 'pending', needs: node.needs }])),
    metrics: {},
    warnings: [],
    git: await (options.git ?? gitState(project.root)),
    environment: environmentFacts(),
  };
  project.runs.save(record);

  const eventLog = project.runs.openEventLog(id);
  const unsubscribe = events.on((event) => {
    eventLog.append(event);
    if (event.type === 'stage-status') {
      const stage = record.stages[event.stage];
      if (!stage) return;
      stage.status = event.status;
      if (event.key) stage.key = event.key;
      if (event.durationMs !== undefined) stage.durationMs = event.durationMs;
      if (event.error) stage.error = event.error;
      if (event.status === 'running' || event.status === 'done' || event.status === 'failed') project.runs.save(record);
    } else if (event.type === 'log' && event.level === 'warn') {
      record.warnings.push(event.stage ? `${event.stage}: ${event.message}` : event.message);
    }
  });

  const started = Date.now();
  events.emit({ type: 'run-started', runId: id, spec: record.spec, stages: plan.map((n) => ({ id: n.id, needs: n.needs })) });
  let outcomes = new Map<string, StageOutcome>();
  try {
    outcomes = await executePlan({
      plan,
      spec,
      root: project.root,
      cache: project.cache,
      hasher: project.hasher,
      events,
      signal,
      concurrency: options.concurrency,
    });
  } finally {
    const fingerprints: Record<string, Fingerprint> = {};
    for (const [stageId, outcome] of outcomes) {
      if (outcome.fingerprint) fingerprints[stageId] = outcome.fingerprint;
      if (outcome.artifact) project.runs.copyPlots(id, outcome.artifact.dir);
      if (outcome.metrics) {
        record.stages[stageId].metrics = outcome.metrics;
        for (const [name, value] of Object.entries(outcome.metrics)) record.metrics[`${stageId}.${name}`] = value;
      }
    }
    project.runs.saveFingerprints(id, fingerprints);
    const failures = [...outcomes.values()].filter((o) => o.status === 'failed');
    const status: RunStatus = signal.aborted || failures.some((o) => isAbortError(o.error))
      ? 'interrupted'
      : failures.length > 0 ? 'failed' : 'done';
    record.status = status;
    record.finishedAt = new Date().toISOString();
    record.durationMs = Date.now() - started;
    events.emit({ type: 'run-finished', status, durationMs: record.durationMs, metrics: record.metrics });
    unsubscribe();
    eventLog.close();
    project.runs.save(record);
  }
  const badInput = [...outcomes.values()].some((o) => o.error instanceof UserError);
  return { record, outcomes, badInput };
}
