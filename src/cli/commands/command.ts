// What every operator command is: its synopsis for the usage text, the options it takes beyond
// the global ones, and a run function over a CommandContext. The shape only; run-cli.ts parses
// arguments and maps errors to exit codes.

import type { ExitCode } from '../cli-error.js';
import type { AdminClient } from '../http-client.js';
import type { Output } from '../output.js';

export interface CommandContext {
  /** Positional arguments after the command's name. */
  args: string[];
  /** `-f FILE`, for the commands that take it. */
  file?: string;
  /** `--if-match REV`, for the commands that change state. */
  ifMatch?: number;
  /** `--force`, for the commands a guardrail may refuse: `?override=rollout` (delete: `?force=true`). */
  force?: boolean;
  /** The rollout commands' options (see CommandOptions). */
  candidate?: string;
  steps?: string;
  reason?: string;
  wait?: boolean;
  timeoutMs?: number;
  /** `apply --dry-run`: preview through the server, change nothing. */
  dryRun?: boolean;
  /** `--name NAME` for a single service body without one. */
  name?: string;
  /** Whether stdout is a terminal (`rollout watch` redraws in place there). */
  terminal?: boolean;
  client: AdminClient;
  out: Output;
}

export interface Command {
  name: string;
  /** e.g. `promote SERVICE VERSION` */
  synopsis: string;
  summary: string;
  options: readonly ('file' | 'if-match' | 'force' | 'candidate' | 'steps' | 'reason' | 'wait' | 'timeout' | 'dry-run' | 'name')[];
  /** The exit code of any failure, when it is not the error's own (diff: 1 means "differences"). */
  failureExit?: ExitCode;
  run(context: CommandContext): Promise<ExitCode>;
}
