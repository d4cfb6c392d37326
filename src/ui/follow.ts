import { watch, type FSWatcher } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { StampedEvent } from '../runner/events.ts';

export interface TailOptions {
  signal?: AbortSignal;
  /** How often to look for new lines when the file system sends no notice. */
  pollMs?: number;
  /** Asked (at most every `livenessMs`) while nothing new arrives: is the writing process still there? */
  writerAlive?: () => boolean;
  livenessMs?: number;
}

/** Why the tail ended: the run finished, its process is gone without finishing, or we were told to stop. */
export type TailEnd = 'finished' | 'writer-gone' | 'aborted';

export interface TailedEvent {
  event: StampedEvent;
  /** The line as written, for --json passthrough. */
  line: string;
}

/**
 * `tail -f` for a run's events.ndjson: everything already there, then lines as they are
 * appended, until `run-finished`. The last line may be half written when read; it is kept
 * until its newline arrives. Unparseable complete lines are counted and skipped.
 */
export class EventTail implements AsyncIterable<StampedEvent> {
  end?: TailEnd;
  skipped = 0;

  constructor(
    readonly file: string,
    private readonly options: TailOptions = {},
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<StampedEvent> {
    for await (const { event } of this.records()) yield event;
  }

  async *records(): AsyncGenerator<TailedEvent> {
    const { signal, writerAlive } = this.options;
    const pollMs = this.options.pollMs ?? 200;
    const livenessMs = this.options.livenessMs ?? 1000;
    const wake = new Waker(path.dirname(this.file), pollMs, signal);
    const decoder = new StringDecoder('utf8');
    let handle: FileHandle | undefined;
    let position = 0;
    let pending = '';
    let lastLiveness = Date.now();
    const buffer = Buffer.alloc(64 * 1024);

    const readMore = async (): Promise<string> => {
      handle ??= await open(this.file, 'r').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      if (!handle) return '';
      let text = '';
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) return text;
        position += bytesRead;
        text += decoder.write(buffer.subarray(0, bytesRead));
      }
    };

    const parse = (line: string): TailedEvent | undefined => {
      try {
        const event = JSON.parse(line) as StampedEvent;
        if (event && typeof event === 'object' && typeof event.type === 'string') return { event, line };
      } catch {
        /* counted below */
      }
      this.skipped++;
      return undefined;
    };

    try {
      for (;;) {
        if (signal?.aborted) {
          this.end = 'aborted';
          return;
        }
        const text = await readMore();
        if (text) {
          pending += text;
          const lines = pending.split('\n');
          pending = lines.pop()!;
          for (const line of lines) {
            if (!line.trim()) continue;
            const parsed = parse(line);
            if (!parsed) continue;
            yield parsed;
            if (parsed.event.type === 'run-finished') {
              this.end = 'finished';
              return;
            }
          }
          lastLiveness = Date.now();
          continue;
        }
        if (writerAlive && Date.now() - lastLiveness >= livenessMs) {
          lastLiveness = Date.now();
          if (!writerAlive()) {
            // It may have written its last lines just before it went: read once more.
            pending += await readMore();
            const lines = pending.split('\n');
            pending = '';
            for (const line of lines) {
              if (!line.trim()) continue;
              const parsed = parse(line);
              if (parsed) yield parsed;
              if (parsed?.event.type === 'run-finished') {
                this.end = 'finished';
                return;
              }
            }
            this.end = 'writer-gone';
            return;
          }
        }
        await wake.next();
      }
    } finally {
      wake.close();
      await handle?.close();
    }
  }
}

/** Resolves on a change in the directory (fs.watch) or after `pollMs`, whichever comes first. */
class Waker {
  private watcher?: FSWatcher;
  private resolve?: () => void;
  private changed = false;

  constructor(
    dir: string,
    private readonly pollMs: number,
    private readonly signal?: AbortSignal,
  ) {
    try {
      this.watcher = watch(dir, () => this.fire());
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      // No directory yet, or no inotify watches left: polling alone works too.
    }
    signal?.addEventListener('abort', () => this.fire(), { once: true });
  }

  private fire(): void {
    const resolve = this.resolve;
    if (resolve) {
      this.resolve = undefined;
      resolve();
    } else {
      this.changed = true;
    }
  }

  next(): Promise<void> {
    if (this.changed || this.signal?.aborted) {
      this.changed = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.resolve = undefined;
        resolve();
      }, this.pollMs);
      this.resolve = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  close(): void {
    this.watcher?.close();
  }
}
