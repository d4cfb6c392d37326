// Worker threads start without the parent's TypeScript loader: in Node 20 neither an inherited
// `--import tsx` nor the parent's `register()` reaches a worker (tried under tsx, vitest and
// plain node + register). So each worker registers tsx itself and then loads the real,
// TypeScript worker module.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
