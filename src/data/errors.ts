import { UserError } from '../errors.ts';

/**
 * Errors raised while reading a dataset's files.
 *
 * A data problem is only actionable when it names the file and the row, so the
 * message follows the compiler convention `path/to/file.tsv:1234: what is wrong`
 * (editors and terminals make that clickable). The parts stay available as
 * fields for callers that want to render or aggregate them differently.
 */
export class DataError extends UserError {
  override name = 'DataError';
  /** The file the problem was found in, as the caller named it. */
  readonly file: string;
  /** 1-based line number in `file`, when the problem belongs to a line. */
  readonly line: number | undefined;
  /** The bare description, without the `file:line:` prefix. */
  readonly reason: string;

  constructor(init: { file: string; line?: number; message: string }) {
    const where = init.line === undefined ? init.file : `${init.file}:${init.line}`;
    super(`${where}: ${init.message}`);
    this.file = init.file;
    this.line = init.line;
    this.reason = init.message;
  }
}
