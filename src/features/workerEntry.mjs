// Worker threads start without the parent's TypeScript loader: in Node 20 neither an inherited
// `--import tsx` nor the parent's `register()` reaches a worker (tried under tsx, vitest and
// plain node + register). So, run from the sources, each worker registers tsx itself and then
// loads the real, TypeScript worker module. In the compiled build (dist/, where scripts/build.mjs
// copies this file beside the compiled worker.js, and no .ts) it loads worker.js as it is.
import { existsSync } from 'node:fs';

if (existsSync(new URL('./worker.ts', import.meta.url))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./worker.ts');
} else {
  await import('./worker.js');
}
