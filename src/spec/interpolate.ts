import type { Diagnostic } from './diagnostic.ts';
import { locationOf, pointer, type Origin } from './sourceTree.ts';

const VARIABLE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Expand `${VAR}` and `${VAR:-default}` in every string value (`$${` is a literal `${`).
 * A variable that is unset and has no default is an error at that value. `variables` names
 * every variable read, for the spec cache.
 */
export function interpolateEnv(
  value: unknown,
  origins: Map<string, Origin>,
  env: NodeJS.ProcessEnv,
): { value: unknown; diagnostics: Diagnostic[]; variables: Set<string> } {
  const diagnostics: Diagnostic[] = [];
  const variables = new Set<string>();
  const visit = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === 'string') {
      return node.replace(VARIABLE, (match, name: string | undefined, fallback: string | undefined) => {
        if (match === '$${') return '${';
        variables.add(name!);
        const set = env[name!];
        if (set !== undefined && set !== '') return set;
        if (fallback !== undefined) return fallback;
        const origin = origins.get(pointer(path));
        diagnostics.push({
          message: `environment variable ${name} is not set`,
          hint: `set it, or give a default: \${${name}:-value}`,
          location: origin ? locationOf(origin, 'value') : undefined,
        });
        return match;
      });
    }
    if (Array.isArray(node)) return node.map((item, i) => visit(item, [...path, i]));
    if (node && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, visit(v, [...path, k])]));
    }
    return node;
  };
  return { value: visit(value, []), diagnostics, variables };
}
