import { rmSync } from 'node:fs';
import { isAbortError, UserError } from '../errors.ts';
import type { SpecLike, StageArtifact, StageInputs } from '../stages/stage.ts';
import type { ArtifactCache } from './cache.ts';
import type { RunEvents, StageStatus } from './events.ts';
import type { FileHasher } from './fileHash.ts';
import { absolutePath, fingerprintKey, fingerprintPath, libraryVersion, type Fingerprint } from './fingerprint.ts';
import type { PlanNode } from './plan.ts';

export interface StageOutcome {
  status: StageStatus;
  key?: string;
  fingerprint?: Fingerprint;
  artifact?: StageArtifact;
  durationMs?: number;
  error?: unknown;
  metrics?: Record<string, number>;
}

export interface ExecuteOptions {
  plan: PlanNode[];
  spec: SpecLike;
  root: string;
  cache: ArtifactCache;
  hasher: FileHasher;
  events: RunEvents;
  signal: AbortSignal;
  /** Stages allowed to run at once (independent branches of the DAG). */
  concurrency?: number;
}

/**
 * Walk the plan: a node starts when all it needs are finished. Its key is computed from
 * its fingerprint; a cached entry is reused, otherwise the stage runs under the key's lock
 * (so concurrent runs of one spec compute each stage once) and its artifact is committed
 * atomically. A failure skips the failed node's dependents; independent branches go on.
 */
export async function executePlan(options: ExecuteOptions): Promise<Map<string, StageOutcome>> {
  const { plan, events, signal } = options;
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const outcomes = new Map<string, StageOutcome>();
  for (const node of plan) {
    outcomes.set(node.id, { status: 'pending' });
    events.emit({ type: 'stage-status', stage: node.id, status: 'pending' });
  }
  const running = new Map<string, Promise<void>>();
  for (;;) {
    for (const node of plan) {
      if (outcomes.get(node.id)!.status !== 'pending' || running.has(node.id)) continue;
      const upstream = node.needs.map((id) => outcomes.get(id)!.status);
      if (signal.aborted || upstream.some((status) => status === 'failed' || status === 'skipped')) {
        outcomes.set(node.id, { status: 'skipped' });
        events.emit({ type: 'stage-status', stage: node.id, status: 'skipped' });
        continue;
      }
      const ready = upstream.every((status) => status === 'cached' || status === 'done');
      if (!ready || running.size >= concurrency) continue;
      const task = runNode(node, options, outcomes).then((outcome) => {
        outcomes.set(node.id, outcome);
        running.delete(node.id);
      });
      running.set(node.id, task);
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  return outcomes;
}

async function runNode(node: PlanNode, options: ExecuteOptions, outcomes: Map<string, StageOutcome>): Promise<StageOutcome> {
  const { cache, events, signal, root } = options;
  const { spec } = node;
  const started = Date.now();
  const inputs: StageInputs = {};
  for (const [name, id] of Object.entries(node.inputs)) inputs[name] = outcomes.get(id)!.artifact!;
  let fingerprint: Fingerprint | undefined;
  let key: string | undefined;
  try {
    fingerprint = await fingerprintNode(node, inputs, options);
    key = fingerprintKey(fingerprint);
    const hit = cache.get(key);
    if (hit) return cachedOutcome(node, key, fingerprint, hit, started, events);

    const release = await cache.lock(key, signal, () =>
      events.emit({ type: 'log', level: 'info', stage: node.id, message: `waiting for another process computing ${node.id} (${key!.slice(0, 12)})` }),
    );
    try {
      const winner = cache.get(key);
      if (winner) return cachedOutcome(node, key, fingerprint, winner, started, events);
      events.emit({ type: 'stage-status', stage: node.id, status: 'running', key });
      const scratch = cache.scratch(key);
      const entry = await cache.put(key, node.stage.kind, async (dir) => {
        const value = await node.stage.run(
          {
            dir,
            key: key!,
            scratch,
            params: node.params,
            seed: node.seed,
            spec,
            root,
            signal,
            events,
            progress: (done, total, unit) => events.emit({ type: 'stage-progress', stage: node.id, done, total, unit }),
            warn: (message) => events.emit({ type: 'log', level: 'warn', stage: node.id, message }),
            log: (message) => events.emit({ type: 'log', level: 'info', stage: node.id, message }),
          },
          inputs,
        );
        signal.throwIfAborted();
        const refs = (value as { refs?: unknown } | null)?.refs;
        return { value, refs: Array.isArray(refs) ? refs.map(String) : [] };
      });
      rmSync(scratch, { recursive: true, force: true });
      const durationMs = Date.now() - started;
      const metrics = node.stage.metrics?.(entry.value);
      emitWarnings(node, entry.value, events);
      events.emit({ type: 'stage-status', stage: node.id, status: 'done', key, durationMs });
      return { status: 'done', key, fingerprint, artifact: { key, dir: entry.dir, value: entry.value }, durationMs, metrics };
    } finally {
      release();
    }
  } catch (error) {
    const durationMs = Date.now() - started;
    const interrupted = isAbortError(error) || signal.aborted;
    const message = interrupted ? 'interrupted' : describe(error);
    events.emit({ type: 'stage-status', stage: node.id, status: 'failed', key, durationMs, error: message });
    return { status: 'failed', key, fingerprint, durationMs, error: interrupted ? new Error('interrupted') : error };
  }
}

function cachedOutcome(
  node: PlanNode,
  key: string,
  fingerprint: Fingerprint,
  entry: { dir: string; value: unknown },
  started: number,
  events: RunEvents,
): StageOutcome {
  const durationMs = Date.now() - started;
  emitWarnings(node, entry.value, events);
  events.emit({ type: 'stage-status', stage: node.id, status: 'cached', key, durationMs });
  return {
    status: 'cached',
    key,
    fingerprint,
    artifact: { key, dir: entry.dir, value: entry.value },
    durationMs,
    metrics: node.stage.metrics?.(entry.value),
  };
}

async function fingerprintNode(node: PlanNode, inputs: StageInputs, options: ExecuteOptions): Promise<Fingerprint> {
  const { stage } = node;
  const files: Record<string, string> = {};
  const declared = (await stage.files?.(node.params, inputs, node.spec)) ?? [];
  const absolutes = declared.map((file) => absolutePath(file, options.root));
  let hashes: string[];
  try {
    hashes = await options.hasher.hashAll(absolutes);
  } catch (error) {
    const { code, path: missing } = error as NodeJS.ErrnoException;
    if (code === 'ENOENT') throw new UserError(`${stage.kind}: input file not found: ${declared[absolutes.indexOf(missing!)] ?? missing}`);
    throw error;
  }
  absolutes.forEach((absolute, i) => (files[fingerprintPath(absolute, options.root)] = hashes[i]));
  options.hasher.save();
  return {
    kind: stage.kind,
    implVersion: stage.implVersion,
    params: node.params ?? null,
    seed: node.seed,
    inputs: Object.fromEntries(Object.entries(inputs).map(([id, artifact]) => [id, artifact.key])),
    files,
    libraries: Object.fromEntries((stage.libraries ?? []).map((name) => [name, libraryVersion(name)])),
    environment: stage.environment?.(node.spec) ?? {},
  };
}

/** A stage's standing warnings about its artifact, repeated whether it ran or came from the cache. */
function emitWarnings(node: PlanNode, value: unknown, events: RunEvents): void {
  for (const message of node.stage.warnings?.(value, node.spec) ?? []) events.emit({ type: 'log', level: 'warn', stage: node.id, message });
}

function describe(error: unknown): string {
  if (error instanceof UserError) return [error.message, ...error.details].join('\n');
  if (error instanceof Error) return error.message;
  return String(error);
}
