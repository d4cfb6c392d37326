import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunEvents, type StampedEvent } from '../../src/runner/events.ts';
import { openProject } from '../../src/runner/project.ts';
import { runExperiment } from '../../src/runner/run.ts';
import type { Spec } from '../../src/spec/types.ts';
import { useTempDirs } from '../fixtures/tempProject.ts';
import { toyStages, type ToySpec } from '../fixtures/toyPipeline.ts';

const tempDir = useTempDirs();

function project() {
  const root = tempDir();
  writeFileSync(path.join(root, 'numbers.txt'), '1 2 3\n');
  return root;
}

function spec(overrides: Partial<ToySpec['toy']> = {}): ToySpec {
  return { name: 'toy', seed: 7, toy: { input: 'numbers.txt', factor: 2, label: 'a', ...overrides } };
}

async function run(root: string, toy: ToySpec, signal = new AbortController().signal) {
  const events = new RunEvents();
  const seen: StampedEvent[] = [];
  events.on((e) => seen.push(e));
  const result = await runExperiment({
    project: openProject(root),
    loaded: { spec: toy as unknown as Spec, files: ['toy.yaml'], overrides: [] },
    stages: toyStages,
    events,
    signal,
    command: ['test'],
  });
  const statuses = Object.fromEntries(Object.entries(result.record.stages).map(([id, s]) => [id, s.status]));
  return { result, statuses, seen };
}

describe('executing a stage DAG with caching', () => {
  it('runs every stage once, then serves all of them from the cache', async () => {
    const root = project();
    const first = await run(root, spec());
    expect(first.statuses).toEqual({ source: 'done', scale: 'done', report: 'done' });
    expect(first.result.record.metrics).toEqual({ 'report.sum': 12 });
    const second = await run(root, spec());
    expect(second.statuses).toEqual({ source: 'cached', scale: 'cached', report: 'cached' });
    expect(second.result.record.metrics).toEqual({ 'report.sum': 12 });
  });

  it('re-runs only the stage whose param changed, and its dependents', async () => {
    const root = project();
    await run(root, spec());
    const changed = await run(root, spec({ factor: 3 }));
    expect(changed.statuses).toEqual({ source: 'cached', scale: 'done', report: 'done' });
    expect(changed.result.record.metrics['report.sum']).toBe(18);
  });

  it('ignores params a stage does not declare (sleep_ms is not part of any key)', async () => {
    const root = project();
    await run(root, spec());
    const again = await run(root, spec({ sleep_ms: 1 }));
    expect(again.statuses).toEqual({ source: 'cached', scale: 'cached', report: 'cached' });
  });

  it('keys input files by content: touching is a full hit, a changed byte with mtime restored is not', async () => {
    const root = project();
    const input = path.join(root, 'numbers.txt');
    await run(root, spec());

    const later = new Date(Date.now() + 60_000);
    utimesSync(input, later, later);
    expect((await run(root, spec())).statuses).toEqual({ source: 'cached', scale: 'cached', report: 'cached' });

    const { atime, mtime, size } = statSync(input);
    writeFileSync(input, '1 2 4\n');
    utimesSync(input, atime, mtime);
    expect(statSync(input).size).toBe(size);
    const edited = await run(root, spec());
    expect(edited.statuses).toEqual({ source: 'done', scale: 'done', report: 'done' });
    expect(edited.result.record.metrics['report.sum']).toBe(14);
  });

  it('marks dependents of a failed stage skipped, caches nothing for it, and resumes after', async () => {
    const root = project();
    const failed = await run(root, spec({ fail: true }));
    expect(failed.statuses).toEqual({ source: 'done', scale: 'failed', report: 'skipped' });
    expect(failed.result.record.status).toBe('failed');
    expect(failed.result.record.stages.scale.error).toBe('scale failed on purpose');
    const scaleKey = failed.result.record.stages.scale.key!;
    expect(openProject(root).cache.has(scaleKey)).toBe(false);

    const fixed = await run(root, spec());
    expect(fixed.statuses).toEqual({ source: 'cached', scale: 'done', report: 'done' });
    // `fail` is not a keyed param, so the fixed run computes the very key that failed before.
    expect(fixed.result.record.stages.scale.key).toBe(scaleKey);
  });

  it('stops on abort: the running stage fails as interrupted, the rest are skipped, the record says so', async () => {
    const root = project();
    const controller = new AbortController();
    const pending = run(root, spec({ sleep_ms: 5_000 }), controller.signal);
    setTimeout(() => controller.abort(), 300);
    const { statuses, result } = await pending;
    expect(statuses).toEqual({ source: 'done', scale: 'failed', report: 'skipped' });
    expect(result.record.status).toBe('interrupted');
    const onDisk = JSON.parse(readFileSync(path.join(root, 'runs', result.record.id, 'run.json'), 'utf8'));
    expect(onDisk.status).toBe('interrupted');
  });

  it('records events in order in runs/<id>/events.ndjson', async () => {
    const root = project();
    const { result, seen } = await run(root, spec());
    const lines = readFileSync(path.join(root, 'runs', result.record.id, 'events.ndjson'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).seq)).toEqual(seen.map((e) => e.seq));
    expect(seen[0].type).toBe('run-started');
    expect(seen[seen.length - 1].type).toBe('run-finished');
  });
});
