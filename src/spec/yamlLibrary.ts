import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let library: typeof Yaml | undefined;

/**
 * The yaml package, loaded on first use: a spec that comes from the spec cache (specCache.ts)
 * is never parsed. The CLI build bundles it into one file, dist/yaml.cjs (scripts/bundle.mjs),
 * which loads in a few ms where the package's 72 modules take ~45 ms; run from the sources,
 * it is the package itself.
 */
export function yaml(): typeof Yaml {
  if (!library) {
    const require = createRequire(import.meta.url);
    try {
      library = require('../yaml.cjs') as typeof Yaml;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
      library = require('yaml') as typeof Yaml;
    }
  }
  return library;
}
