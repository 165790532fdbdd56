// Duration strings ("30s", "1.5s", "2m", "1m30s", "500ms", "0s"): the one grammar and parser for
// them, shared by the schema (pattern), validation and the translator. Pure; it knows nothing
// about HTTP or Envoy.

import { SluiceError } from '../errors.js';

/** Hours, minutes, seconds, milliseconds — each at most once, in that order; ms are whole. */
export const DURATION_PATTERN =
  '^(?=\\d)(?:(\\d+(?:\\.\\d+)?)h)?(?:(\\d+(?:\\.\\d+)?)m(?!s))?(?:(\\d+(?:\\.\\d+)?)s)?(?:(\\d+)ms)?$';

const DURATION_RE = new RegExp(DURATION_PATTERN);
const UNIT_MS = [3_600_000, 60_000, 1_000, 1] as const;

/** Milliseconds in a duration string; throws SLUICE_INVALID_BODY (at `path`) when it is not one. */
export function parseDuration(text: string, path?: string): number {
  const match = DURATION_RE.exec(text);
  if (match === null) {
    throw new SluiceError(
      'SLUICE_INVALID_BODY',
      `"${text}" is not a duration; use e.g. "30s", "1.5s", "2m", "1m30s" or "500ms".`,
      path,
    );
  }
  let exact = 0;
  UNIT_MS.forEach((unit, i) => {
    const part = match[i + 1];
    if (part !== undefined) exact += Number(part) * unit;
  });
  const ms = Math.round(exact);
  if (Math.abs(exact - ms) > 1e-6 || !Number.isSafeInteger(ms)) {
    throw new SluiceError(
      'SLUICE_INVALID_BODY',
      `"${text}" must be a whole number of milliseconds and not absurdly long.`,
      path,
    );
  }
  return ms;
}
