import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A checkpoint is a JSON document whose typed arrays are stored in one binary file beside
 * it (weights and optimiser moments are megabytes; JSON numbers would be slow and lossy).
 * It is written to `<dir>.next` and swapped in with renames, so a crash at any moment
 * leaves the previous checkpoint or the new one, never half of either.
 */
type Packed = { $typed: 'f32' | 'u8'; offset: number; length: number };

export function saveCheckpoint(dir: string, value: unknown): void {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const json = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Float32Array || v instanceof Uint8Array) {
      const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      const packed: Packed = { $typed: v instanceof Float32Array ? 'f32' : 'u8', offset, length: v.length };
      // Keep Float32 data 4-byte aligned in the blob.
      const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
      padded.set(bytes);
      chunks.push(padded);
      offset += padded.length;
      return packed;
    }
    return v;
  });
  const next = `${dir}.next`;
  rmSync(next, { recursive: true, force: true });
  mkdirSync(next, { recursive: true });
  writeFileSync(path.join(next, 'arrays.bin'), Buffer.concat(chunks));
  writeFileSync(path.join(next, 'state.json'), json);
  const old = `${dir}.old`;
  rmSync(old, { recursive: true, force: true });
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(next, dir);
  rmSync(old, { recursive: true, force: true });
}

export function loadCheckpoint<T>(dir: string): T | undefined {
  // A crash between the two renames leaves only `.old`: it is the last complete one.
  const source = existsSync(path.join(dir, 'state.json')) ? dir : existsSync(path.join(`${dir}.old`, 'state.json')) ? `${dir}.old` : undefined;
  if (!source) return undefined;
  const blob = readFileSync(path.join(source, 'arrays.bin'));
  const buffer = blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength);
  return JSON.parse(readFileSync(path.join(source, 'state.json'), 'utf8'), (_key, v: unknown) => {
    if (v && typeof v === 'object' && '$typed' in v) {
      const packed = v as Packed;
      return packed.$typed === 'f32'
        ? new Float32Array(buffer.slice(packed.offset, packed.offset + packed.length * 4))
        : new Uint8Array(buffer.slice(packed.offset, packed.offset + packed.length));
    }
    return v;
  }) as T;
}
