/**
 * `digits` random hex digits, for names that must not collide (temp files, run ids), not for
 * secrets: Math.random, because node:crypto costs ~8 ms to load on a cached run's path.
 */
export function randomHex(digits: number): string {
  let out = '';
  while (out.length < digits) out += Math.floor(Math.random() * 2 ** 32).toString(16).padStart(8, '0');
  return out.slice(0, digits);
}
