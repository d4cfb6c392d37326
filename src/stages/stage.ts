import type { RunEvents } from '../runner/events.ts';

/**
 * One step of an experiment (ingest, features, train, search, eval, or a test's own).
 * A stage's *key* is decided by what it declares here — kind, implVersion, params, seed,
 * libraries, upstream keys, input file contents — and nothing else. What it produces is
 * its *artifact*: files in a directory plus a small JSON value.
 */
export interface Stage<Params = unknown, Value = unknown> {
  /** Name used in the plan, run records and `xp why`. */
  kind: string;
  /** Bump whenever a change to the code would change the artifact: it invalidates the cache. */
  implVersion: number;
  /** Upstream stages (by kind) whose artifacts this one reads; may depend on the spec. */
  needs: readonly string[] | ((spec: SpecLike) => string[]);
  /** Whether the spec asks for this stage at all (default: always). */
  enabled?(spec: SpecLike): boolean;
  /** The part of the spec that changes this stage's output — and nothing else. JSON only. */
  params(spec: SpecLike): Params;
  /** The seed this stage's randomness derives from, or null when it uses none. */
  seed(spec: SpecLike): number | null;
  /** npm packages whose version changes the output (their installed versions go into the key). */
  libraries?: readonly string[];
  /** Extra key inputs resolved at run time, e.g. the backend actually available. */
  environment?(spec: SpecLike): Record<string, unknown>;
  /**
   * Files read by the stage, keyed by content. May depend on upstream artifacts (the clips
   * an ingest selected). Paths are absolute or relative to the project root.
   */
  files?(params: Params, inputs: StageInputs, spec: SpecLike): string[] | Promise<string[]>;
  /** Produce the artifact: write files into `ctx.dir`, return the JSON value. */
  run(ctx: StageContext<Params>, inputs: StageInputs): Promise<Value>;
  /** Numbers worth showing in `xp ls`/`xp show`, taken from the value. */
  metrics?(value: Value): Record<string, number>;
  /** Warnings about the artifact worth repeating on every run, cached or not (e.g. too few validation speakers). */
  warnings?(value: Value, spec: SpecLike): string[];
  /**
   * Planned once per entry of the spec's `seeds` (against the spec with `seed` set to it) instead
   * of once: the stages whose results vary with the seed but not the data (train, search, eval).
   */
  perSeed?: boolean;
}

/** Any spec object; the real pipeline uses the validated `Spec`, tests may use their own shapes. */
export type SpecLike = Record<string, unknown> & { name?: string; seed?: number };

export interface StageArtifact<Value = unknown> {
  key: string;
  dir: string;
  value: Value;
}

export type StageInputs = Record<string, StageArtifact>;

export interface StageContext<Params = unknown> {
  /** Where to write the artifact's files: a fresh temp directory, renamed into the cache on success. */
  dir: string;
  /** This stage's cache key. */
  key: string;
  /**
   * A directory that survives a crash, for checkpoints a re-run resumes from (same key, same
   * place). Removed once the artifact is committed.
   */
  scratch: string;
  params: Params;
  seed: number | null;
  /** The full resolved spec, for locations and performance knobs that do not change results. */
  spec: SpecLike;
  /** Project root: relative paths in the spec are relative to it. */
  root: string;
  /** Aborted on Ctrl-C; long loops should check it. */
  signal: AbortSignal;
  events: RunEvents;
  /** Report progress: done of total units ("clips", "epochs"). Throttled by the event bus. */
  progress(done: number, total: number, unit: string): void;
  /** A warning for the run record and the console. */
  warn(message: string): void;
  log(message: string): void;
}
