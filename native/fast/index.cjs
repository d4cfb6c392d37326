'use strict';
// xp's start-up helpers (src/fast.c), or null when they are not built (no C compiler, not
// Linux, XP_SKIP_NATIVE=1): every caller then does the same with Node's own APIs. CommonJS and
// loaded by path, so bin/xp.cjs, the sources and the CLI bundle all share this one instance.
let addon = null;
try {
  addon = require('./build/Release/xp_fast.node');
} catch {
  /* not built */
}
module.exports = addon;
