// Types for scripts/bundle.mjs (plain JavaScript, run by the build before any TypeScript loader).
export declare function bundleCli(dist: string): Promise<string>;
