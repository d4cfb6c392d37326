import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { writeJsonAtomic } from '../util/atomicWrite.ts';
import { randomHex } from '../util/randomHex.ts';
import { processAlive } from '../util/processAlive.ts';
import type { EnvironmentFacts, GitState } from './environment.ts';
import type { RunStatus, StageStatus, StampedEvent } from './events.ts';
import type { Fingerprint } from './fingerprint.ts';

export interface StageRecord {
  status: StageStatus;
  needs: string[];
  key?: string;
  durationMs?: number;
  error?: string;
  metrics?: Record<string, number>;
}

/** runs/<id>/run.json: everything needed to know what ran, on what, and what came out. */
export interface RunRecord {
  id: string;
  spec: string;
  specFile: string;
  /** The spec file and the files it extends, child first. */
  specFiles: string[];
  overrides: string[];
  status: RunStatus;
  /** The process that made the run, so a run left "running" by a crash can be told apart. */
  pid: number;
  host: string;
  createdAt: string;
  finishedAt?: string;
  durationMs?: number;
  command: string[];
  resolvedSpec: unknown;
  stages: Record<string, StageRecord>;
  /** Flattened `<stage>.<metric>` numbers. */
  metrics: Record<string, number>;
  warnings: string[];
  git: GitState;
  environment: EnvironmentFacts;
}

const FINGERPRINTS_FILE = 'fingerprints.json';

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The runs/ directory: one folder per run with run.json, events.ndjson and fingerprints.json. */
export class RunStore {
  constructor(readonly dir: string) {}

  newId(specName: string): string {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    return `${stamp}-${specName}-${randomHex(4)}`;
  }

  runDir(id: string): string {
    return path.join(this.dir, id);
  }

  save(record: RunRecord): void {
    writeJsonAtomic(path.join(this.runDir(record.id), 'run.json'), record);
  }

  /** runs/<id>/events.ndjson, open for appending: one line per event, each written as it comes. */
  openEventLog(id: string): { append(event: StampedEvent): void; close(): void } {
    const dir = this.runDir(id);
    mkdirSync(dir, { recursive: true });
    const fd = openSync(path.join(dir, 'events.ndjson'), 'a');
    let open = true;
    return {
      append: (event) => {
        if (open) writeSync(fd, JSON.stringify(event) + '\n');
      },
      close: () => {
        if (open) closeSync(fd);
        open = false;
      },
    };
  }

  /** runs/<id>/fingerprints.json: every stage's key inputs, one file (what `xp why` and `xp diff` read). */
  saveFingerprints(id: string, fingerprints: Record<string, Fingerprint>): void {
    writeJsonAtomic(path.join(this.runDir(id), FINGERPRINTS_FILE), fingerprints);
  }

  /** A stage's `plots/*.svg` (cached or fresh) go beside the record, where reports link to them. */
  copyPlots(id: string, artifactDir: string): void {
    const source = path.join(artifactDir, 'plots');
    if (!existsSync(source)) return;
    const target = path.join(this.runDir(id), 'plots');
    mkdirSync(target, { recursive: true });
    for (const name of readdirSync(source)) copyFileSync(path.join(source, name), path.join(target, name));
  }

  fingerprint(id: string, stage: string): Fingerprint | undefined {
    const all = readJson<Record<string, Fingerprint>>(path.join(this.runDir(id), FINGERPRINTS_FILE));
    // Runs recorded before fingerprints.json kept one file per stage.
    return all ? all[stage] : readJson<Fingerprint>(path.join(this.runDir(id), 'fingerprints', `${stage}.json`));
  }

  events(id: string): StampedEvent[] {
    try {
      return readFileSync(path.join(this.runDir(id), 'events.ndjson'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as StampedEvent);
    } catch {
      return [];
    }
  }

  /** All readable runs, oldest first. */
  list(): RunRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const records: RunRecord[] = [];
    for (const name of names) {
      try {
        const record = JSON.parse(readFileSync(path.join(this.dir, name, 'run.json'), 'utf8')) as RunRecord;
        // A run whose process died (kill -9, power loss) never got to write its final status.
        if (record.status === 'running' && record.host === hostname() && !processAlive(record.pid)) record.status = 'interrupted';
        records.push(record);
      } catch {
        /* a folder without a readable run.json is not a run */
      }
    }
    return records.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
  }

  /** A run by id, unique id prefix, `latest`, or `<spec>@latest`. */
  resolve(ref: string): RunRecord {
    const runs = this.list();
    if (runs.length === 0) throw new UserError(`no runs yet in ${this.dir}`);
    if (ref === 'latest') return runs[runs.length - 1];
    const at = ref.match(/^(.+)@latest$/);
    if (at) {
      const ofSpec = runs.filter((r) => r.spec === at[1]);
      if (ofSpec.length === 0) throw new UserError(`no runs of spec "${at[1]}"`, [`specs with runs: ${[...new Set(runs.map((r) => r.spec))].join(', ')}`]);
      return ofSpec[ofSpec.length - 1];
    }
    const exact = runs.find((r) => r.id === ref);
    if (exact) return exact;
    const matches = runs.filter((r) => r.id.startsWith(ref));
    if (matches.length === 1) return matches[0];
    if (matches.length > 1) throw new UserError(`run reference "${ref}" is ambiguous`, matches.slice(0, 10).map((r) => `  ${r.id}`));
    throw new UserError(`no run matches "${ref}"`, ['use a run id or prefix from `xp ls`, `latest`, or `<spec>@latest`']);
  }

  /** The newest run of the same spec that started before this one and ran this stage. */
  previous(record: RunRecord, stage?: string): RunRecord | undefined {
    const earlier = this.list().filter(
      (r) => r.spec === record.spec && r.createdAt <= record.createdAt && r.id !== record.id && (!stage || r.stages[stage]?.key),
    );
    return earlier[earlier.length - 1];
  }

  remove(id: string): void {
    rmSync(this.runDir(id), { recursive: true, force: true });
  }
}
