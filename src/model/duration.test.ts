// The duration grammar: what parses to how many milliseconds, and what is refused.

import { describe, expect, it } from 'vitest';
import { SluiceError } from '../errors.js';
import { DURATION_PATTERN, MAX_DURATION, parseBoundedDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['0s', 0],
    ['30s', 30_000],
    ['1.5s', 1_500],
    ['2m', 120_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['1h', 3_600_000],
    ['1h2m3s4ms', 3_723_004],
    ['0.001s', 1],
    ['1.5m', 90_000],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(new RegExp(DURATION_PATTERN).test(text)).toBe(true);
  });

  it.each(['', '30', 's', '1.s', '-1s', '1s1m', '1m1m', '1.5ms', '30 s', '1d', '0.0001s'])(
    'rejects %j with SLUICE_INVALID_BODY at the given path',
    (text) => {
      let caught: unknown;
      try {
        parseDuration(text, '/timeout');
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(SluiceError);
      expect(caught).toMatchObject({ code: 'SLUICE_INVALID_BODY', path: '/timeout' });
    },
  );
});

function refusal(parse: () => number): unknown {
  try {
    parse();
  } catch (error) {
    return error;
  }
  throw new Error('parsed');
}

describe('parseBoundedDuration', () => {
  it('takes up to 2562047h, the largest whole number of hours Envoy accepts', () => {
    expect(MAX_DURATION).toBe('2562047h');
    expect(parseBoundedDuration('2562047h', '/timeout')).toBe(2_562_047 * 3_600_000);
    // 9223369200 s: below Envoy's limit of 9223372036 s.
    expect(parseBoundedDuration('2562047h', '/timeout') / 1000).toBeLessThan(9_223_372_036);
  });

  it.each(['2562048h', '2562047h0m0s1ms', '153722868m', '9223372036s', '99999999999999h'])(
    'refuses %j with SLUICE_DURATION_TOO_LONG (422), the limit and the path',
    (text) => {
      expect(refusal(() => parseBoundedDuration(text, '/timeout'))).toMatchObject({
        code: 'SLUICE_DURATION_TOO_LONG',
        status: 422,
        path: '/timeout',
        message: `"${text}" is longer than Envoy accepts; give at most 2562047h (about 292 years).`,
      });
    },
  );
});
