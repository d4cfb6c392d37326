#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm install` / `npm ci` / `npm run build`) when it was
// built from the sources as they are now, and the TypeScript sources through tsx otherwise: an
// edited, checked-out or half-built tree never runs stale code, it only starts slower (tsx adds
// ~0.5 s). The check (scripts/dist-stamp.mjs) stats each source file, ~1-2 ms.
// XP_FROM_SOURCE=1 always runs the sources.

// React's development build (pulled in by the Ink dashboard) costs ~25% of each frame.
process.env.NODE_ENV ??= 'production';

const { distState } = await import('../scripts/dist-stamp.mjs');
let main;
if (process.env.XP_FROM_SOURCE !== '1' && distState() === 'fresh') {
  try {
    ({ main } = await import('../dist/cli/main.js'));
  } catch (error) {
    // dist/ was swapped or removed between the check and the import: use the sources.
    if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  }
}
if (!main) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
