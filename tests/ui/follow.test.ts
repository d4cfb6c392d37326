import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StampedEvent } from '../../src/runner/events.ts';
import { EventTail } from '../../src/ui/follow.ts';
import { useTempDirs } from '../fixtures/tempProject.ts';
import { finishedRun } from './events.ts';

const tempDir = useTempDirs();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lines = (events: StampedEvent[]) => events.map((e) => JSON.stringify(e) + '\n').join('');

async function collect(tail: EventTail, into: StampedEvent[]): Promise<void> {
  for await (const event of tail) into.push(event);
}

describe('EventTail', () => {
  it('reads what exists, waits for appended lines, keeps a half-written line until its newline, stops at run-finished', async () => {
    const file = path.join(tempDir(), 'events.ndjson');
    const events = finishedRun();
    const all = lines(events);
    const cut = all.indexOf('\n', all.length / 2) + 20; // in the middle of a line
    writeFileSync(file, all.slice(0, cut));
    const seen: StampedEvent[] = [];
    const tail = new EventTail(file, { pollMs: 20 });
    const done = collect(tail, seen);
    await sleep(200);
    const before = seen.length;
    expect(before).toBe(all.slice(0, cut).split('\n').length - 1);
    appendFileSync(file, all.slice(cut, cut + 5)); // still not the whole line
    await sleep(100);
    expect(seen.length).toBe(before);
    appendFileSync(file, all.slice(cut + 5));
    await done;
    expect(seen).toEqual(events);
    expect(tail.end).toBe('finished');
    expect(tail.skipped).toBe(0);
  });

  it('waits for the file to appear', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'run', 'events.ndjson');
    const seen: StampedEvent[] = [];
    const tail = new EventTail(file, { pollMs: 20 });
    const done = collect(tail, seen);
    await sleep(100);
    mkdirSync(path.dirname(file));
    writeFileSync(file, lines(finishedRun()));
    await done;
    expect(seen).toHaveLength(finishedRun().length);
  });

  it('ends with writer-gone when the writing process is gone without finishing (a last line without newline still counts)', async () => {
    const file = path.join(tempDir(), 'events.ndjson');
    const events = finishedRun().slice(0, 10);
    writeFileSync(file, lines(events.slice(0, 9)) + JSON.stringify(events[9]));
    let alive = true;
    const seen: StampedEvent[] = [];
    const tail = new EventTail(file, { pollMs: 20, livenessMs: 50, writerAlive: () => alive });
    const done = collect(tail, seen);
    await sleep(200);
    expect(seen).toHaveLength(9);
    expect(tail.end).toBeUndefined();
    alive = false;
    await done;
    expect(seen).toEqual(events);
    expect(tail.end).toBe('writer-gone');
  });

  it('skips and counts unreadable lines; stops when aborted', async () => {
    const file = path.join(tempDir(), 'events.ndjson');
    const events = finishedRun().slice(0, 3);
    writeFileSync(file, lines(events.slice(0, 2)) + 'not json\n' + lines(events.slice(2)));
    const controller = new AbortController();
    const seen: StampedEvent[] = [];
    const tail = new EventTail(file, { pollMs: 10_000, signal: controller.signal });
    const done = collect(tail, seen);
    await sleep(100);
    controller.abort();
    await done; // promptly, although the poll interval is 10 s
    expect(seen).toEqual(events);
    expect(tail.skipped).toBe(1);
    expect(tail.end).toBe('aborted');
  });
});
