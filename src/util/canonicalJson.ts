import { createHash } from 'node:crypto';
import { fast } from './fast.ts';

/**
 * JSON with object keys sorted at every level, so equal values always serialise (and hash)
 * the same way. Numbers use JavaScript's shortest round-trip form; -0 becomes 0.
 * Undefined object fields are dropped, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`cannot fingerprint non-finite number ${value}`);
    return JSON.stringify(Object.is(value, -0) ? 0 : value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`cannot fingerprint a ${typeof value}`);
}

/** Hex sha256 (a string as UTF-8). Through native/fast when built: node:crypto costs ~8 ms to load. */
export function sha256(data: string | Uint8Array): string {
  return fast ? fast.sha256(data) : createHash('sha256').update(data).digest('hex');
}
