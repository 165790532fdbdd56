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
  if (!Number.isSafeInteger(ms)) throw tooLong(text, path);
  if (Math.abs(exact - ms) > 1e-6) {
    throw new SluiceError('SLUICE_INVALID_BODY', `"${text}" must be a whole number of milliseconds.`, path);
  }
  return ms;
}

/**
 * The longest duration a body may give for a proxy: 2562047h (about 292 years), the largest whole
 * number of hours Envoy takes. Envoy refuses any duration, in any field, of 9223372036 s or more
 * (INT64_MAX nanoseconds; measured on Envoy 1.40: 9223372035.999999999s is taken, 9223372036s is not).
 */
export const MAX_DURATION = '2562047h';
const MAX_DURATION_MS = 2_562_047 * 3_600_000;

function tooLong(text: string, path: string | undefined): SluiceError {
  return new SluiceError(
    'SLUICE_DURATION_TOO_LONG',
    `"${text}" is longer than Envoy accepts; give at most ${MAX_DURATION} (about 292 years).`,
    path,
  );
}

/** Milliseconds in a duration a body gives for a proxy: parseDuration, and at most MAX_DURATION. */
export function parseBoundedDuration(text: string, path: string): number {
  const ms = parseDuration(text, path);
  if (ms > MAX_DURATION_MS) throw tooLong(text, path);
  return ms;
}
