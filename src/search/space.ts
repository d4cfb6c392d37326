/**
 * The search space: `search.space` parsed and checked against the resolved spec, sampling of
 * single dimensions, grid enumeration, and applying a trial's values to the spec.
 *
 * A key is a dotted path into the spec (`train.lr`, `model.conv.filters`). Only `model.*` and
 * `train.*` can vary per trial: everything upstream (data, features) is shared by all trials.
 */
import { UserError } from '../errors.ts';
import { suggest } from '../spec/diagnostic.ts';
import { isPlainObject } from '../spec/merge.ts';
import { allowedTypes, experimentSchema, schemaAt } from '../spec/schema.ts';
import type { ModelSpec, SearchDimension, Spec, TrainSpec } from '../spec/types.ts';
import { canonicalJson } from '../util/canonicalJson.ts';

export type Dimension =
  | { key: string; kind: 'categorical'; values: unknown[] }
  | { key: string; kind: 'uniform'; low: number; high: number }
  | { key: string; kind: 'log_uniform'; low: number; high: number }
  | { key: string; kind: 'int'; low: number; high: number }
  | { key: string; kind: 'quantized'; low: number; high: number; step: number; values: number[] };

export interface SearchSpace {
  dims: Dimension[];
}

/** One trial's values, keyed by space key, in the space's key order. */
export type Assignment = Record<string, unknown>;

/** What a trial trains: the spec's model and train sections with the trial's values set. */
export interface TrialConfig {
  model: ModelSpec;
  train: TrainSpec;
}

const SEARCHABLE = ['model', 'train'];
/** Grids larger than this are almost certainly a mistake (an int range meant as a distribution). */
export const MAX_GRID = 100_000;

/**
 * Parse and check `spec.search.space`: every key a path that exists in the resolved spec,
 * under model.* or train.*, no key inside another; every distribution fits the value's type;
 * every value the space can produce passes the experiment schema. Problems are UserErrors
 * naming the key.
 */
export function parseSpace(spec: Spec): SearchSpace {
  const search = spec.search;
  if (!search) throw new UserError('the spec has no search section');
  const entries = Object.entries(search.space ?? {});
  if (entries.length === 0) throw new UserError('search.space is empty: name at least one spec path to vary, e.g. train.lr: { log_uniform: [0.0001, 0.01] }');
  const keys = entries.map(([key]) => key);
  for (const key of keys) {
    const inside = keys.find((other) => other !== key && key.startsWith(`${other}.`));
    if (inside) throw new UserError(`search.space: "${key}" lies inside "${inside}"; vary one or the other`);
  }
  const dims = entries.map(([key, raw]) => parseDimension(spec, key, raw));
  if (search.method === 'asha' && keys.includes('train.epochs')) {
    throw new UserError('search.space: "train.epochs" cannot be searched with method asha, which decides how many epochs each trial trains');
  }
  return { dims };
}

function parseDimension(spec: Spec, key: string, raw: SearchDimension): Dimension {
  const segments = key.split('.');
  const where = `search.space."${key}"`;
  if (!SEARCHABLE.includes(segments[0])) {
    throw new UserError(`${where}: only model.* and train.* can vary between trials (the other sections are shared by every trial)`);
  }
  const current = valueAt(spec, segments);
  if (current === undefined) {
    const near = suggest(key, leafPaths(spec, SEARCHABLE));
    throw new UserError(`${where}: "${key}" is not a path in the resolved spec`, near ? [`did you mean "${near}"?`] : []);
  }
  const { schema: root } = experimentSchema();
  const schema = schemaAt(root, segments);
  const types = schema ? allowedTypes(root, schema.schema) : new Set<string>();
  const integerOnly = types.has('integer') && !types.has('number');

  let dim: Dimension;
  if (Array.isArray(raw)) {
    const seen = new Set<string>();
    const values = raw.filter((v) => {
      const id = canonicalJson(v);
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
    dim = { key, kind: 'categorical', values };
  } else {
    if (typeof current !== 'number') {
      throw new UserError(`${where}: a ${Object.keys(raw)[0]} distribution needs a numeric setting, but ${key} is ${describeValue(current)}; use a list of values instead`);
    }
    if ('uniform' in raw || 'log_uniform' in raw) {
      const kind = 'uniform' in raw ? 'uniform' : 'log_uniform';
      const [low, high] = 'uniform' in raw ? raw.uniform : raw.log_uniform;
      if (integerOnly) throw new UserError(`${where}: ${key} is an integer; use { int: [low, high] }, { quantized: … } with an integer step, or a list`);
      if (!(low < high)) throw new UserError(`${where}: ${kind} needs low < high, got [${low}, ${high}]`);
      if (kind === 'log_uniform' && !(low > 0)) throw new UserError(`${where}: log_uniform needs low > 0, got [${low}, ${high}]`);
      dim = { key, kind, low, high };
    } else if ('int' in raw) {
      const [low, high] = raw.int;
      if (!Number.isInteger(low) || !Number.isInteger(high)) throw new UserError(`${where}: int bounds must be integers, got [${low}, ${high}]`);
      if (!(low <= high)) throw new UserError(`${where}: int needs low ≤ high, got [${low}, ${high}]`);
      dim = { key, kind: 'int', low, high };
    } else {
      const { range, step } = raw.quantized;
      const [low, high] = range;
      if (integerOnly && !Number.isInteger(step)) throw new UserError(`${where}: ${key} is an integer, so the quantized step must be an integer, got ${step}`);
      if (!(low <= high)) throw new UserError(`${where}: quantized needs low ≤ high, got [${low}, ${high}]`);
      const values = quantizedValues(low, high, step);
      if (values.length === 0) throw new UserError(`${where}: no multiple of ${step} lies in [${low}, ${high}]`);
      dim = { key, kind: 'quantized', low, high, step, values };
    }
  }
  // Every value the dimension can produce must make a valid spec (types, enums, minimums).
  for (const value of probeValues(dim)) {
    const problem = schemaProblem(spec, segments, value);
    if (problem) throw new UserError(`${where}: value ${JSON.stringify(value)} does not fit ${key}: ${problem}`);
  }
  return dim;
}

/** The values worth validating: all categories, both ends of a range. */
function probeValues(dim: Dimension): unknown[] {
  switch (dim.kind) {
    case 'categorical':
      return dim.values;
    case 'quantized':
      return [dim.values[0], dim.values[dim.values.length - 1]];
    default:
      return [dim.low, dim.high];
  }
}

function schemaProblem(spec: Spec, segments: string[], value: unknown): string | undefined {
  const copy = structuredClone(spec) as unknown as Record<string, unknown>;
  setAt(copy, segments, structuredClone(value));
  const { validate } = experimentSchema();
  if (validate(copy)) return undefined;
  const error = validate.errors?.find((e) => e.keyword !== 'oneOf') ?? validate.errors?.[0];
  if (!error) return 'invalid';
  const at = error.instancePath.split('/').filter(Boolean).join('.');
  return `${at ? `${at} ` : ''}${error.message ?? 'is invalid'}`;
}

/** Multiples of `step` in [low, high], computed without accumulating float error. */
export function quantizedValues(low: number, high: number, step: number): number[] {
  const decimals = decimalsOf(step);
  const first = Math.ceil(low / step - 1e-9);
  const last = Math.floor(high / step + 1e-9);
  const values: number[] = [];
  for (let k = first; k <= last && values.length <= MAX_GRID; k++) values.push(roundTo(k * step, decimals));
  return values;
}

function decimalsOf(step: number): number {
  const text = String(step);
  if (text.includes('e-')) return Number(text.split('e-')[1]) + (text.split('e-')[0].split('.')[1]?.length ?? 0);
  return text.split('.')[1]?.length ?? 0;
}

function roundTo(value: number, decimals: number): number {
  return Number(value.toFixed(Math.min(decimals, 20)));
}

/** Round a continuous sample to 6 significant digits (readable tables, exact round trips). */
export function tidy(value: number): number {
  return Number(value.toPrecision(6));
}

/** The number of points of a finite dimension, or Infinity. */
export function cardinality(dim: Dimension): number {
  switch (dim.kind) {
    case 'categorical':
    case 'quantized':
      return dim.values.length;
    case 'int':
      return dim.high - dim.low + 1;
    default:
      return Infinity;
  }
}

export function spaceSize(space: SearchSpace): number {
  return space.dims.reduce((n, dim) => n * cardinality(dim), 1);
}

/** Map u ∈ [0, 1) to a value of the dimension, uniformly (log-uniformly for log_uniform). */
export function fromUnit(dim: Dimension, u: number): unknown {
  switch (dim.kind) {
    case 'categorical':
      return structuredClone(dim.values[Math.min(dim.values.length - 1, Math.floor(u * dim.values.length))]);
    case 'quantized':
      return dim.values[Math.min(dim.values.length - 1, Math.floor(u * dim.values.length))];
    case 'int':
      return Math.min(dim.high, dim.low + Math.floor(u * (dim.high - dim.low + 1)));
    case 'uniform':
      return clamp(tidy(dim.low + u * (dim.high - dim.low)), dim.low, dim.high);
    case 'log_uniform':
      return clamp(tidy(Math.exp(Math.log(dim.low) + u * (Math.log(dim.high) - Math.log(dim.low)))), dim.low, dim.high);
  }
}

export function clamp(x: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, x));
}

/** Every point of the grid, last key varying fastest; an error for continuous dimensions. */
export function gridAssignments(space: SearchSpace): Assignment[] {
  const axes = space.dims.map((dim) => {
    switch (dim.kind) {
      case 'categorical':
      case 'quantized':
        return dim.values;
      case 'int':
        return Array.from({ length: dim.high - dim.low + 1 }, (_, i) => dim.low + i);
      default:
        throw new UserError(
          `search.space."${dim.key}": method grid needs a finite set of values; ${dim.kind} is continuous — use a list, { int: … } or { quantized: … }`,
        );
    }
  });
  const total = axes.reduce((n, axis) => n * axis.length, 1);
  if (total > MAX_GRID) throw new UserError(`search: the grid has ${total} points (more than ${MAX_GRID}); use method random, tpe or asha`);
  const points: Assignment[] = [];
  const index = new Array<number>(axes.length).fill(0);
  for (let n = 0; n < total; n++) {
    points.push(Object.fromEntries(space.dims.map((dim, d) => [dim.key, structuredClone(axes[d][index[d]])])));
    for (let d = axes.length - 1; d >= 0; d--) {
      if (++index[d] < axes[d].length) break;
      index[d] = 0;
    }
  }
  return points;
}

/** A copy of the spec's model and train sections with the assignment deep-set into them. */
export function applyAssignment(spec: Pick<Spec, 'model' | 'train'>, assignment: Assignment): TrialConfig {
  const copy = { model: structuredClone(spec.model), train: structuredClone(spec.train) } as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(assignment)) setAt(copy, key.split('.'), structuredClone(value));
  return copy as unknown as TrialConfig;
}

/** Identity of an assignment, for duplicate checks. */
export function assignmentId(assignment: Assignment): string {
  return canonicalJson(assignment);
}

function valueAt(root: unknown, segments: string[]): unknown {
  let node = root;
  for (const segment of segments) {
    if (!isPlainObject(node) || !Object.hasOwn(node, segment)) return undefined;
    node = node[segment];
  }
  return node;
}

function setAt(root: Record<string, unknown>, segments: string[], value: unknown): void {
  let node = root;
  for (const segment of segments.slice(0, -1)) {
    const next = node[segment];
    if (!isPlainObject(next)) throw new UserError(`cannot set ${segments.join('.')}: ${segment} is not a section`);
    node = next;
  }
  node[segments[segments.length - 1]] = value;
}

function leafPaths(spec: Spec, sections: string[]): string[] {
  const paths: string[] = [];
  const visit = (node: unknown, at: string) => {
    paths.push(at);
    if (isPlainObject(node)) for (const [k, v] of Object.entries(node)) visit(v, `${at}.${k}`);
  };
  for (const section of sections) visit((spec as unknown as Record<string, unknown>)[section], section);
  return paths;
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return `a list (${JSON.stringify(value)})`;
  if (isPlainObject(value)) return 'a section';
  return `${typeof value} ${JSON.stringify(value)}`;
}
