import type { Node as YamlNode } from 'yaml';
import type { Diagnostic, SourceLocation } from './diagnostic.ts';
import { yaml } from './yamlLibrary.ts';

/**
 * A plain JSON value plus, for every path in it, where in which source it was written.
 * Paths are JSON pointers ("/train/batch_size"), the same as ajv's `instancePath`.
 */
export interface Origin {
  file: string;
  text: string;
  /** The key's span when the value sits under a mapping key; the value's span otherwise. */
  key?: [number, number];
  value: [number, number];
}

export interface SourceTree {
  value: unknown;
  origins: Map<string, Origin>;
}

export function pointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export function segments(pointerText: string): string[] {
  if (pointerText === '') return [];
  return pointerText
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function locationOf(origin: Origin, part: 'key' | 'value'): SourceLocation {
  const [start, end] = part === 'key' && origin.key ? origin.key : origin.value;
  return { file: origin.file, text: origin.text, start, end };
}

/** Parse YAML text, keeping source spans. YAML syntax errors come back as diagnostics. */
export function parseYamlSource(file: string, text: string): { tree: SourceTree; diagnostics: Diagnostic[] } {
  const doc = yaml().parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const diagnostics: Diagnostic[] = doc.errors.map((error) => ({
    message: `YAML syntax error: ${firstLine(error.message)}`,
    location: { file, text, start: error.pos[0], end: error.pos[1] },
  }));
  const origins = new Map<string, Origin>();
  const rootNode = doc.contents as YamlNode | null;
  if (rootNode) origins.set('', { file, text, value: span(rootNode) });
  const value = rootNode ? walk(rootNode, [], file, text, origins, diagnostics) : {};
  return { tree: { value, origins }, diagnostics };
}

function walk(
  node: YamlNode,
  path: (string | number)[],
  file: string,
  text: string,
  origins: Map<string, Origin>,
  diagnostics: Diagnostic[],
): unknown {
  const { isMap, isPair, isScalar, isSeq } = yaml();
  if (isMap(node)) {
    const result: Record<string, unknown> = {};
    for (const item of node.items) {
      if (!isPair(item)) continue;
      const keyNode = item.key as YamlNode | null;
      if (!isScalar(keyNode) || (typeof keyNode.value !== 'string' && typeof keyNode.value !== 'number')) {
        diagnostics.push({
          message: 'mapping keys must be plain strings',
          location: keyNode ? { file, text, start: span(keyNode)[0], end: span(keyNode)[1] } : undefined,
        });
        continue;
      }
      const key = String(keyNode.value);
      const valueNode = item.value as YamlNode | null;
      const childPath = [...path, key];
      const keySpan = span(keyNode);
      origins.set(pointer(childPath), { file, text, key: keySpan, value: valueNode ? span(valueNode) : keySpan });
      result[key] = valueNode ? walk(valueNode, childPath, file, text, origins, diagnostics) : null;
    }
    return result;
  }
  if (isSeq(node)) {
    return node.items.map((item, index) => {
      const childPath = [...path, index];
      const itemNode = item as YamlNode | null;
      if (!itemNode) return null;
      origins.set(pointer(childPath), { file, text, value: span(itemNode) });
      return walk(itemNode, childPath, file, text, origins, diagnostics);
    });
  }
  if (isScalar(node)) return node.value;
  return (node as { toJSON?: () => unknown }).toJSON?.() ?? null;
}

function span(node: YamlNode): [number, number] {
  const range = node.range;
  return range ? [range[0], range[1]] : [0, 0];
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}
