// Text no proxy can take, anywhere in a body: a lone UTF-16 surrogate or NUL, found with the
// JSON pointer of the first offending string or key.

import { describe, expect, it } from 'vitest';
import { SluiceError } from '../errors.js';
import { checkText } from './text.js';

function refusal(body: unknown): SluiceError {
  try {
    checkText(body);
  } catch (error) {
    return error as SluiceError;
  }
  throw new Error('accepted');
}

describe('checkText', () => {
  it('passes any well-formed text, astral characters included', () => {
    expect(() => checkText({ a: ['blue', '🟦', 'ＢＬＵＥ', 1, null, { 'x/y~': 'é' }] })).not.toThrow();
  });

  it.each<[string, unknown, string]>([
    ['a lone high surrogate in a header value', { rules: [{ match: { headers: { 'x-a': 'v\ud800' } } }] }, '/rules/0/match/headers/x-a'],
    ['a lone low surrogate in a prefix', { match: { prefix: '/\udc00' } }, '/match/prefix'],
    ['a reversed pair', { hosts: ['\udc00\ud800'] }, '/hosts/0'],
    ['a surrogate in a key', { weights: { 'b\ud800': 100 } }, '/weights/b\ud800'],
    ['NUL in a health-check path', { healthCheck: { path: '/health\u0000z' } }, '/healthCheck/path'],
    ['the first offender in document order', { a: 'ok', b: ['fine', '\u0000'], c: '\ud800' }, '/b/1'],
    ['a key escaped as a JSON pointer', { cookies: { 'a/b~': '\u0000' } }, '/cookies/a~1b~0'],
  ])('refuses %s with SLUICE_INVALID_TEXT and its path', (_name, body, path) => {
    expect(refusal(body)).toMatchObject({ code: 'SLUICE_INVALID_TEXT', status: 422, path });
  });

  it('says which character and where', () => {
    expect(refusal({ match: { prefix: '/ab\ud800' } }).message).toBe(
      'The string at "/match/prefix" holds a lone UTF-16 surrogate (\\ud800 at character 4), which is not Unicode text and cannot be sent as UTF-8.',
    );
  });

  it('walks bodies nested deeper than the call stack', () => {
    let deep: unknown = '\u0000';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(refusal(deep).path).toBe('/0'.repeat(200_000));
  });
});
