// Whole-number path and query parameters (revisions, limits). The admin API's validator never
// coerces types, so their schema is a string of digits; this module owns that pattern and turns
// a validated value into a number within its range, or refuses it with SLUICE_INVALID_PARAM.

import { SluiceError } from '../errors.js';

export const WHOLE_NUMBER_PATTERN = '^[0-9]{1,15}$';

export function wholeNumberSchema(description: string) {
  return { type: 'string', pattern: WHOLE_NUMBER_PATTERN, description } as const;
}

/** The number in `value` (already matched against the pattern), which must be from `min` to `max`. */
export function wholeNumber(value: string, name: string, min: number, max: number): number {
  const number = Number(value);
  if (!(number >= min && number <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
    throw new SluiceError('SLUICE_INVALID_PARAM', `${name} must be a whole number ${range}, not ${value}.`, `/${name}`);
  }
  return number;
}

/** A revision number in a path: 1 or more. */
export const revisionParamsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['revision'],
  properties: { revision: wholeNumberSchema('A revision number (1 or more).') },
} as const;

export function revisionParam(value: string): number {
  return wholeNumber(value, 'revision', 1, Number.MAX_SAFE_INTEGER);
}
