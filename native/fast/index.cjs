'use strict';
// xp's start-up helpers (src/fast.c), or null when they are not built (no C compiler, not
// Linux, XP_SKIP_NATIVE=1) or XP_NATIVE_FAST=0 turns them off: every caller then does the same
// with Node's own APIs, with identical results.
let addon = null;
if (process.env.XP_NATIVE_FAST !== '0') {
  try {
    addon = require('./build/Release/xp_fast.node');
  } catch {
    /* not built */
  }
}
module.exports = addon;
