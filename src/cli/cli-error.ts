// The CLI's exit codes and the one error type its commands throw: a message for one line of
// stderr and the exit code it ends with. Knows nothing of HTTP or of any command.

import type { ErrorBody as ApiErrorBody } from '../api/common.js';

/** Done (`diff`: no difference). */
export const EXIT_OK = 0;
/** The server refused the change or the command failed (`diff`: differences found). */
export const EXIT_FAILED = 1;
/** Bad usage, an unreadable file, or no sluice to talk to (`diff`: any error). */
export const EXIT_USAGE = 2;

export type ExitCode = typeof EXIT_OK | typeof EXIT_FAILED | typeof EXIT_USAGE;

export class CliError extends Error {
  override name = 'CliError';

  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** Print the short usage text after the message. */
    readonly showUsage = false,
  ) {
    super(message);
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, EXIT_USAGE, true);
}

/** What the admin API says of a refusal: `{"error": {"code", "message", "path"}}`'s inside. */
export type ErrorBody = Omit<ApiErrorBody['error'], 'code'> & { code: string };

/** Input refused, by the server or by the same checks run locally: shown with code, path and message. */
export class RejectedError extends CliError {
  override name = 'RejectedError';

  constructor(
    readonly error: ErrorBody,
    /** What `--json` prints: the server's answer. */
    readonly body: unknown,
    exitCode: ExitCode = EXIT_FAILED,
  ) {
    super(`${error.code}${error.path ? ` at ${error.path}` : ''}: ${error.message}`, exitCode);
  }

  /** The same error about one resource of a file: `service predict: … at /services/predict/weights: …`. */
  within(resource: string, pointer: string): RejectedError {
    const path = `${pointer}${this.error.path ?? ''}`;
    const located = new RejectedError({ ...this.error, ...(path ? { path } : {}) }, this.body, this.exitCode);
    located.message = `${resource}: ${located.message}`;
    return located;
  }
}
