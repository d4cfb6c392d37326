#!/usr/bin/env node
// The CLI runs straight from the TypeScript sources through tsx, so there is no build step
// to forget and no stale dist/ to debug.
import { register } from 'tsx/esm/api';

// React's development build (pulled in by the Ink dashboard) costs ~25% of each frame.
process.env.NODE_ENV ??= 'production';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
