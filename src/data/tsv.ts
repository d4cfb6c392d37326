/**
 * Streaming reader for Common Voice style TSV files.
 *
 * Real releases are large (English validated.tsv: 864k+ rows, hundreds of MB),
 * so the file is read in big chunks and split on '\n' without ever holding the
 * whole file. The format is deliberately *not* RFC 4180: Common Voice writes
 * sentences with bare double quotes (`He said "no"`), and a CSV-style quote
 * parser would swallow tabs and newlines after an unbalanced quote. Fields are
 * therefore split on tabs only and quotes are kept verbatim.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { DataError } from './errors.ts';

/** One data row: its fields in header order, and where it came from. */
export interface TsvRow {
  /** 1-based line number in the file (the header is line 1). */
  readonly line: number;
  /** Field values, exactly `columns.length` of them. */
  readonly fields: string[];
}

export interface OpenTsvOptions {
  /** Name used in error messages (default: the path as given). */
  displayName?: string;
  /** Aborts reading between chunks with `signal.reason`. */
  signal?: AbortSignal;
  /** Bytes read per system call (default 1 MiB; grows for longer lines). */
  chunkSize?: number;
}

export interface TsvReader {
  /** The name errors use for this file. */
  readonly file: string;
  /** Column names from the header line, in order. */
  readonly columns: readonly string[];
  /** File size in bytes when opened (for progress). */
  readonly size: number;
  /** Bytes consumed so far (for progress). */
  readonly bytesRead: number;
  /** Index of a column by header name, or -1 when the file lacks it. */
  indexOf(name: string): number;
  /**
   * Data rows in file order. Blank lines are skipped (but still counted for
   * line numbers). A row whose field count differs from the header throws a
   * DataError. Breaking out of the loop closes the file.
   */
  rows(): AsyncGenerator<TsvRow, void, undefined>;
  /**
   * The same rows, one array per chunk read (thousands of rows each). Hot loops
   * use this: an `await` per row costs more than splitting the row.
   * Only one of rows() / batches() may be called, once.
   */
  batches(): AsyncGenerator<TsvRow[], void, undefined>;
  /** Closes the file if rows()/batches() was not fully iterated. Safe to call twice. */
  close(): Promise<void>;
}

const DEFAULT_CHUNK = 1 << 20;

/** Opens a TSV file and reads its header line. */
export async function openTsv(path: string, options: OpenTsvOptions = {}): Promise<TsvReader> {
  const file = options.displayName ?? path;
  const { signal } = options;
  signal?.throwIfAborted();

  const handle = await open(path, 'r');
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await handle.close();
  };

  try {
    const size = (await handle.stat()).size;
    const source = new LineSource(handle, options.chunkSize ?? DEFAULT_CHUNK, signal);
    const first = await source.next();
    let headerLine = first?.[0] ?? '';
    // Some tools prepend a UTF-8 byte order mark; it would otherwise become part of the first column name.
    if (headerLine.charCodeAt(0) === 0xfeff) headerLine = headerLine.slice(1);
    if (headerLine.length === 0) {
      throw new DataError({ file, line: 1, message: 'missing header line' });
    }
    const pending = first!.slice(1);
    const columns = headerLine.split('\t');
    const index = new Map<string, number>();
    columns.forEach((name, i) => {
      if (index.has(name)) {
        throw new DataError({ file, line: 1, message: `duplicate column "${name}" in header` });
      }
      index.set(name, i);
    });

    let started = false;
    const start = (): AsyncGenerator<TsvRow[], void, undefined> => {
      if (started) throw new Error(`${file}: rows can only be iterated once`);
      started = true;
      return iterateBatches(source, pending, file, columns.length, close);
    };
    const reader: TsvReader = {
      file,
      columns,
      size,
      get bytesRead() {
        return source.bytesRead;
      },
      indexOf: (name) => index.get(name) ?? -1,
      close,
      batches: start,
      rows: async function* () {
        for await (const batch of start()) yield* batch;
      },
    };
    return reader;
  } catch (err) {
    await close();
    throw err;
  }
}

// Bytes 0x80-0xFF show up as these chars in a latin1 decoding.
const NON_ASCII = /[\u0080-\u00ff]/g;

/**
 * Cuts the file into lines, one chunk at a time.
 *
 * Speed trick: a chunk is decoded as latin1 (one byte = one char, several
 * times faster than UTF-8 decoding) and cut into lines there; only the lines
 * that actually contain non-ASCII bytes are decoded again as UTF-8 from the
 * same byte range. For English releases that is a few lines per chunk; for
 * other scripts it degrades gracefully to per-line UTF-8 decoding. Chunks end
 * at the last '\n', so a multi-byte character is never split between chunks.
 */
class LineSource {
  bytesRead = 0;
  private buffer: Buffer;
  private filled = 0;
  private eof = false;

  constructor(
    private readonly handle: FileHandle,
    chunkSize: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.buffer = Buffer.allocUnsafe(Math.max(16, chunkSize));
  }

  /** The next run of complete lines (without '\n' or a trailing '\r'), or undefined at end of file. */
  async next(): Promise<string[] | undefined> {
    for (;;) {
      if (this.eof) {
        if (this.filled === 0) return undefined;
        // A final line without '\n' is still a line.
        const lines = this.cut(this.filled, this.filled);
        this.filled = 0;
        return lines;
      }
      this.signal?.throwIfAborted();
      if (this.filled === this.buffer.length) {
        // A single line longer than the buffer: grow rather than fail.
        const bigger = Buffer.allocUnsafe(this.buffer.length * 2);
        this.buffer.copy(bigger, 0, 0, this.filled);
        this.buffer = bigger;
      }
      const { bytesRead } = await this.handle.read(this.buffer, this.filled, this.buffer.length - this.filled, null);
      if (bytesRead === 0) {
        this.eof = true;
        continue;
      }
      this.filled += bytesRead;
      this.bytesRead += bytesRead;
      const lastNewline = this.buffer.lastIndexOf(10, this.filled - 1);
      if (lastNewline < 0) continue; // no complete line yet
      const end = lastNewline + 1;
      const lines = this.cut(end, lastNewline);
      this.buffer.copy(this.buffer, 0, end, this.filled);
      this.filled -= end;
      return lines;
    }
  }

  /** Splits buffer[0, end) into lines; `textEnd` excludes the final '\n' if any. */
  private cut(end: number, textEnd: number): string[] {
    const buf = this.buffer;
    const text = buf.toString('latin1', 0, end);
    const lines: string[] = [];
    NON_ASCII.lastIndex = 0;
    let nonAscii = NON_ASCII.exec(text)?.index ?? Infinity;
    let start = 0;
    while (start <= textEnd && start < end) {
      let nl = text.indexOf('\n', start);
      if (nl < 0) nl = end;
      // Tolerate CRLF files: drop one '\r' before the '\n'.
      const stop = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      if (nonAscii < nl) {
        lines.push(buf.toString('utf8', start, stop));
        NON_ASCII.lastIndex = nl;
        nonAscii = NON_ASCII.exec(text)?.index ?? Infinity;
      } else {
        lines.push(text.slice(start, stop));
      }
      start = nl + 1;
    }
    return lines;
  }
}

async function* iterateBatches(
  source: LineSource,
  pending: string[],
  file: string,
  width: number,
  close: () => Promise<void>,
): AsyncGenerator<TsvRow[], void, undefined> {
  try {
    let lineNo = 1; // the header
    let lines: string[] | undefined = pending;
    while (lines !== undefined) {
      const batch: TsvRow[] = [];
      for (const text of lines) {
        lineNo++;
        if (text.length === 0) continue;
        const fields = text.split('\t');
        if (fields.length !== width) {
          throw new DataError({ file, line: lineNo, message: `expected ${width} columns, found ${fields.length}` });
        }
        batch.push({ line: lineNo, fields });
      }
      if (batch.length > 0) yield batch;
      lines = await source.next();
    }
  } finally {
    await close();
  }
}

/**
 * Copies a string so it no longer shares memory with the chunk it was cut from.
 *
 * V8 represents `slice`/`split` results of 13+ characters as views into the
 * parent string. Keeping one such field (a clip path) alive would keep the
 * whole 1 MiB chunk alive, so a few thousand kept rows could pin the entire
 * file in memory. Concatenating forces a fresh flat copy of just this value.
 */
export function detach(value: string): string {
  return (' ' + value).slice(1);
}
