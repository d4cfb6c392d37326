'use strict';
// Runs a CommonJS file with its compiled code taken from V8's code cache (Node 20 has no
// module compile cache of its own; 22 does). The cache is written after the program has done
// its work, so it holds every function that run compiled, not only the top level: the next
// start of the same command compiles almost nothing. Only a short run writes it: in a long one
// (a cold `xp run` that trains) V8 flushes the bytecode of functions not run for a while, so
// its cache would lack much of the start-up path while holding all of training.
//
// V8 rejects a cache made by another V8 version or other flags, but it checks the source only
// by its length, so each cache file is named after the build id in the file's first line
// (scripts/bundle.mjs): a cache is only ever offered to the exact source it was made from.
const { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const path = require('node:path');
const vm = require('node:vm');

/** Runs longer than this (from the compile to saveCache) leave the cache alone. */
const MAX_WRITER_MS = 3000;
const BUILD_ID = /^\/\/ xp build ([0-9a-f]{16,64})\n/;

/**
 * Compile the CommonJS `file` with the code cache `<cacheDir>/<name>-<build id>.bin`. Returns
 * `run()`, which runs the module and returns its exports; `saveCache()`, to call when the work
 * is done (it writes only when there was no usable cache); and `cache`, what became of it:
 * 'hit', 'miss' (none yet), 'rejected' (V8 refused it) or 'off' (the file has no build id).
 */
function compileWithCodeCache(file, cacheDir, name) {
  const started = Date.now();
  // The bundle is ASCII (scripts/bundle.mjs), for which latin1 is exact and the fastest decoding.
  const source = readFileSync(file, 'latin1');
  const id = BUILD_ID.exec(source)?.[1];
  const cacheFile = id && path.join(cacheDir, `${name}-${id}.bin`);
  let cachedData;
  if (cacheFile) {
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      /* the first run of this command since the build */
    }
  }
  // `__xpImport` stands in for `import()` (scripts/bundle.mjs rewrites it): a vm.Script's own
  // import() fails once its code comes from the cache.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname, __xpImport) {${source}\n})`, { filename: file, cachedData });
  const cache = !cacheFile ? 'off' : !cachedData ? 'miss' : script.cachedDataRejected ? 'rejected' : 'hit';
  const run = () => {
    const module = { exports: {} };
    script.runInThisContext()(module.exports, createRequire(file), module, file, path.dirname(file), importModule);
    return module.exports;
  };
  const saveCache = () => {
    if ((cache !== 'miss' && cache !== 'rejected') || Date.now() - started > MAX_WRITER_MS) return;
    const temp = `${cacheFile}.${process.pid}.tmp`;
    try {
      mkdirSync(cacheDir, { recursive: true });
      writeFileSync(temp, script.createCachedData());
      renameSync(temp, cacheFile);
    } catch {
      // A read-only install: every start compiles, as without a cache.
      rmSync(temp, { force: true });
    }
  };
  return { run, saveCache, cache };
}

/** Packages are found as from the bundle: both this file and dist/ sit below the same node_modules. */
const importModule = (specifier) => import(specifier);

module.exports = { compileWithCodeCache };
