// The server's guardrails as the CLI meets them: `--force` sent as a change's rollout override, a
// refusal that --force overrides completed with "repeat with --force", and the words for a rollout
// a forced change aborted. Knows the guardrails' codes and answer fields, not any command.

import type { AbortedRollout } from '../../api/desired-state.js';
import { RejectedError } from '../cli-error.js';

/** Refusals that `--force` overrides: a change that would abort a rollout, a delete that needs confirming. */
const FORCEABLE = new Set(['SLUICE_ROLLOUT_IN_PROGRESS', 'SLUICE_DELETE_UNCONFIRMED']);

/** `path` with `?override=rollout` under --force (set-weights, promote, apply's services). */
export function withRolloutOverride(path: string, force: boolean | undefined): string {
  return force === true ? `${path}?override=rollout` : path;
}

/** A refusal that --force overrides also says how to override it from here. */
export async function withForceHint<T>(request: Promise<T>): Promise<T> {
  try {
    return await request;
  } catch (error) {
    if (error instanceof RejectedError && FORCEABLE.has(error.error.code)) {
      throw new RejectedError({ ...error.error, message: `${error.error.message} With sluice: repeat with --force.` }, error.body);
    }
    throw error;
  }
}

export function abortedRolloutText(rollout: AbortedRollout): string {
  return `aborted the rollout of ${rollout.candidate} (it was ${rollout.phase})`;
}
