import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Write to a temp file beside the target, then rename: readers see the old or the new file, never half. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  mkdirSync(path.dirname(file), { recursive: true });
  // pid + random: unique among concurrent writers (Math.random, not node:crypto, which costs ~8 ms to load).
  const temp = `${file}.${process.pid}.${randomHex(8)}.tmp`;
  try {
    writeFileSync(temp, data);
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/** `digits` random hex digits, for names that must not collide (not for secrets). */
export function randomHex(digits: number): string {
  let out = '';
  while (out.length < digits) out += Math.floor(Math.random() * 2 ** 32).toString(16).padStart(8, '0');
  return out.slice(0, digits);
}
