/**
 * xp's start-up helpers (native/fast: batch stat, sha256, spawning without a fork), or null
 * when they are not built; callers then do the same through Node's APIs, with identical results.
 */
import fast from '../../native/fast/index.cjs';

export { fast };
