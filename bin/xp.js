#!/usr/bin/env node
'use strict';
// Runs the compiled CLI when dist/ was built from the sources as they are now (scripts/dist-stamp.cjs:
// a stat per source file), and the TypeScript sources through tsx otherwise: an edited,
// checked-out or half-built tree never runs stale code, it only starts slower (~0.5 s).
// The compiled CLI is one file, dist/xp.cjs (scripts/bundle.mjs), run through V8's code cache,
// one cache per command (scripts/code-cache.cjs). This launcher is CommonJS (bin/package.json), as is everything a
// cached command loads, so Node's ES module loader never starts unless a command needs it.
// XP_FROM_SOURCE=1 always runs the sources.

// React's development build (pulled in by the Ink dashboard) costs ~25% of each frame.
process.env.NODE_ENV ??= 'production';

const path = require('node:path');

const COMMAND = /^[a-z][a-z-]*$/;

/** Commands that record runs, and with them the project's git state: its `git status` starts first (src/runner/gitStatus.cjs). */
const RECORDING = new Set(['run', 'results']);

async function start(argv) {
  if (RECORDING.has(argv[0])) require('../src/runner/gitStatus.cjs').startGitStatus(process.env.XP_ROOT ?? process.cwd());
  let main;
  let afterMain = () => {};
  if (process.env.XP_FROM_SOURCE !== '1') {
    const { DIST, distState } = require('../scripts/dist-stamp.cjs');
    if (distState() === 'fresh') {
      const { compileWithCodeCache } = require('../scripts/code-cache.cjs');
      const command = COMMAND.test(argv[0] ?? '') ? argv[0] : 'default';
      try {
        const bundle = compileWithCodeCache(path.join(DIST, 'xp.cjs'), path.join(DIST, '.code-cache'), command);
        main = bundle.run().main;
        afterMain = bundle.saveCache;
      } catch (error) {
        // dist/ was swapped or removed between the check and the read: the sources run.
        if (error?.code !== 'ENOENT') throw error;
      }
    }
  }
  if (!main) {
    const { register } = await import('tsx/esm/api');
    register();
    ({ main } = await import('../src/cli/main.ts'));
  }
  process.exitCode = await main(argv);
  afterMain();
}

start(process.argv.slice(2)).catch((error) => {
  console.error('internal error (a bug in xp, please report it):', error);
  process.exitCode = 70;
});
