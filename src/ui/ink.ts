import type * as Ink from 'ink';

/**
 * Ink, loaded on first use. It is ESM with a top-level await (yoga-layout's wasm), so it can
 * only be `import()`ed: the CommonJS bundle bin/xp.js runs (scripts/bundle.mjs) cannot
 * `require` it. The dashboard awaits `loadInk()` before drawing; components call `ink()`.
 */
let loaded: typeof Ink | undefined;

export async function loadInk(): Promise<typeof Ink> {
  loaded ??= await import('ink');
  return loaded;
}

export function ink(): typeof Ink {
  if (!loaded) throw new Error('the dashboard drew before loadInk() finished');
  return loaded;
}
