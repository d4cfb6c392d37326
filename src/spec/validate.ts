import type { ErrorObject } from 'ajv';
import { suggest, type Diagnostic } from './diagnostic.ts';
import { experimentSchema, resolveRef, schemaAt, type JsonSchema } from './schema.ts';
import { locationOf, segments, type Origin } from './sourceTree.ts';

/**
 * Validate (and fill defaults into) `value` in place; turn ajv's errors into diagnostics a
 * person can act on, located at the span in whichever file (or --set) wrote the value.
 */
export function validateSpec(value: unknown, origins: Map<string, Origin>): Diagnostic[] {
  const { schema, validate } = experimentSchema();
  if (validate(value)) return [];
  const errors = simplify(validate.errors ?? []);
  const diagnostics = errors.map((error) => toDiagnostic(error, schema, value, origins));
  return dedupe(diagnostics);
}

/**
 * A failed `oneOf` reports every branch's complaint. Keep the complaints from a branch that
 * got past the value's shape (they are deeper than the oneOf), else say what was expected once.
 */
function simplify(errors: ErrorObject[]): ErrorObject[] {
  const result: ErrorObject[] = [];
  const consumed = new Set<ErrorObject>();
  errors.forEach((error, index) => {
    if (error.keyword !== 'oneOf' && error.keyword !== 'anyOf') return;
    // ajv reports a oneOf's branch errors just before the oneOf itself (their schemaPath may
    // point into a $ref'd definition, so match them by where they are in the value).
    const under = (e: ErrorObject) => e.instancePath === error.instancePath || e.instancePath.startsWith(error.instancePath + '/');
    const branchErrors = errors.slice(0, index).filter((e) => under(e) && !consumed.has(e));
    branchErrors.forEach((e) => consumed.add(e));
    consumed.add(error);
    const deeper = branchErrors.filter((e) => e.instancePath.length > error.instancePath.length);
    if (deeper.length > 0) result.push(...deeper);
    else result.push({ ...error, keyword: 'oneOfShape' });
  });
  // A bad key under `propertyNames` is reported twice (pattern + propertyNames): keep the pattern one.
  const named = new Set(errors.filter((e) => e.propertyName !== undefined).map((e) => e.instancePath));
  return [...errors.filter((e) => !consumed.has(e) && !(e.keyword === 'propertyNames' && named.has(e.instancePath))), ...result];
}

function toDiagnostic(error: ErrorObject, root: JsonSchema, value: unknown, origins: Map<string, Origin>): Diagnostic {
  const path = segments(error.instancePath);
  const where = path.length ? path.join('.') : 'the spec';
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(error.params.additionalProperty);
      const allowed = Object.keys(schemaAt(root, path)?.schema.properties ?? {});
      const near = suggest(key, allowed);
      return {
        message: path.length ? `unknown key "${key}" in ${where}` : `unknown key "${key}"`,
        hint: near ? `did you mean "${near}"?` : `expected one of: ${allowed.join(', ')}`,
        location: locate(origins, [...path, key], 'key'),
      };
    }
    case 'required':
      return {
        message: `missing required key "${String(error.params.missingProperty)}"${path.length ? ` in ${where}` : ''}`,
        location: locate(origins, path, 'key'),
      };
    case 'enum': {
      const allowed = (error.params.allowedValues as unknown[]).map((v) => String(v));
      const actual = valueAt(value, path);
      const near = typeof actual === 'string' ? suggest(actual, allowed) : undefined;
      return {
        message: `${where} must be one of ${allowed.join(', ')}; got ${show(actual)}`,
        hint: near ? `did you mean "${near}"?` : undefined,
        location: locate(origins, path, 'value'),
      };
    }
    case 'type':
      return {
        message: `${where} must be ${[error.params.type].flat().join(' or ')}; got ${show(valueAt(value, path))}`,
        location: locate(origins, path, 'value'),
      };
    case 'oneOfShape': {
      const description = resolveRef(root, (error.parentSchema ?? {}) as JsonSchema).description;
      return {
        message: `${where} must be ${description ? lowerFirst(description.replace(/\.$/, '')) : 'a valid value'}; got ${show(valueAt(value, path))}`,
        location: locate(origins, path, 'value'),
      };
    }
    case 'propertyNames':
      return { message: `${where} has an invalid key`, location: locate(origins, path, 'key') };
    case 'pattern':
      if (error.propertyName !== undefined) {
        const what = path.join('.') === 'search.space' ? 'a dotted spec path such as "model.lstm.units"' : `a name matching ${String(error.params.pattern)}`;
        return {
          message: `${where} key "${error.propertyName}" must be ${what}`,
          location: locate(origins, [...path, error.propertyName], 'key'),
        };
      }
      return {
        message: `${where} ${error.message ?? 'is invalid'}; got ${show(valueAt(value, path))}`,
        location: locate(origins, path, 'value'),
      };
    default:
      return {
        message: `${where} ${error.message ?? 'is invalid'}${isScalar(valueAt(value, path)) ? `; got ${show(valueAt(value, path))}` : ''}`,
        location: locate(origins, path, 'value'),
      };
  }
}

/** The origin of the deepest written ancestor of `path` (defaults have no origin). */
function locate(origins: Map<string, Origin>, path: string[], part: 'key' | 'value') {
  for (let n = path.length; n >= 0; n--) {
    const key = path.slice(0, n).map((s) => '/' + s.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
    const origin = origins.get(key);
    if (origin) return locationOf(origin, n === path.length ? part : 'key');
  }
  return undefined;
}

function valueAt(value: unknown, path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function show(value: unknown): string {
  if (typeof value === 'string') return `"${value}"`;
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

function isScalar(value: unknown): boolean {
  return value === null || typeof value !== 'object';
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.location?.file}:${d.location?.start}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
