// Whole-number path and query parameters (revisions, limits). The admin API's validator never
// coerces types, so their schema is a string of digits (api/common.ts); this module turns a
// validated value into a number within its range, or refuses it with SLUICE_INVALID_PARAM.

import { SluiceError } from '../errors.js';

/** The number in `value` (already matched against the pattern), which must be from `min` to `max`. */
export function wholeNumber(value: string, name: string, min: number, max: number): number {
  const number = Number(value);
  if (!(number >= min && number <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
    throw new SluiceError('SLUICE_INVALID_PARAM', `${name} must be a whole number ${range}, not ${value}.`, `/${name}`);
  }
  return number;
}

export function revisionParam(value: string): number {
  return wholeNumber(value, 'revision', 1, Number.MAX_SAFE_INTEGER);
}
