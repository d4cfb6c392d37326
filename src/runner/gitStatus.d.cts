// Types for gitStatus.cjs (plain CommonJS, shared with bin/xp.js).
export declare function startGitStatus(cwd: string): void;
export declare function gitStatus(cwd: string): Promise<string | null>;
export declare function runGit(cwd: string, args: string[]): Promise<string | null>;
