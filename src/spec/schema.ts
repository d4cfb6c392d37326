import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

/** The experiment JSON Schema, shipped in schemas/ so editors can use the same file. */
export const SCHEMA_PATH = fileURLToPath(new URL('../../schemas/experiment.schema.json', import.meta.url));

export interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  [keyword: string]: unknown;
}

let cached: { schema: JsonSchema; validate: ValidateFunction } | undefined;

export function experimentSchema(): { schema: JsonSchema; validate: ValidateFunction } {
  if (!cached) {
    const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as JsonSchema;
    // useDefaults fills every default, so the resolved spec records the values actually used.
    const ajv = new Ajv2020({ allErrors: true, verbose: true, useDefaults: true, strict: true, allowUnionTypes: true });
    cached = { schema, validate: ajv.compile(schema) };
  }
  return cached;
}

export function resolveRef(root: JsonSchema, schema: JsonSchema): JsonSchema {
  let current = schema;
  while (current.$ref) {
    const name = current.$ref.replace('#/$defs/', '');
    const target = root.$defs?.[name];
    if (!target) throw new Error(`unresolvable $ref ${current.$ref}`);
    current = { ...target, ...current, $ref: undefined };
  }
  return current;
}

/**
 * The sub-schema that governs a dotted spec path, or undefined when the path is not part
 * of the schema. Keys of free-form maps (search.space) swallow the rest of the path,
 * because their keys are themselves dotted paths.
 */
export function schemaAt(root: JsonSchema, path: string[]): { schema: JsonSchema; consumed: number } | undefined {
  let schema = resolveRef(root, root);
  for (let i = 0; i < path.length; i++) {
    const property = schema.properties?.[path[i]];
    if (property) {
      schema = resolveRef(root, property);
      continue;
    }
    if (typeof schema.additionalProperties === 'object') {
      return { schema: resolveRef(root, schema.additionalProperties), consumed: path.length };
    }
    return undefined;
  }
  return { schema, consumed: path.length };
}

/** Types a value at this schema may take (following oneOf/anyOf). */
export function allowedTypes(root: JsonSchema, schema: JsonSchema): Set<string> {
  const types = new Set<string>();
  const visit = (s: JsonSchema) => {
    const resolved = resolveRef(root, s);
    if (resolved.type) for (const t of [resolved.type].flat()) types.add(t);
    if (resolved.enum) for (const e of resolved.enum) types.add(e === null ? 'null' : typeof e);
    for (const branch of [...(resolved.oneOf ?? []), ...(resolved.anyOf ?? [])]) visit(branch);
    if (resolved.properties || resolved.required) types.add('object');
  };
  visit(schema);
  return types;
}
