/**
 * Two kinds of failure, as in Shopify's cli-kit: the user's (clear message, exit 2) and ours
 * (stack trace, exit 70). Everything else that escapes is treated as ours.
 */
export const EXIT = { ok: 0, runFailed: 1, badInput: 2, interrupted: 130, bug: 70 } as const;

/** The user's input is wrong: a spec, a data file, a flag. Message says what and where. */
export class UserError extends Error {
  override name = 'UserError';
  constructor(
    message: string,
    /** Extra lines printed after the message (diagnostics, hints). */
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

/** An invariant of xp itself broke. */
export class BugError extends Error {
  override name = 'BugError';
}

/** The run was stopped on request (Ctrl-C); it can be resumed. */
export class InterruptedError extends Error {
  override name = 'InterruptedError';
  constructor(message = 'interrupted') {
    super(message);
  }
}

export function isAbortError(error: unknown): boolean {
  return (
    error instanceof InterruptedError ||
    (error instanceof Error && (error.name === 'AbortError' || error.name === 'InterruptedError'))
  );
}
