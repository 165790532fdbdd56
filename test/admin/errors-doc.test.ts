// docs/errors.md against the catalog in src/errors.ts: every code in one is in the other, with
// the same HTTP status, and the table lists each code once.

import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { ERROR_CATALOG } from '../../src/errors.js';

const DOC = new URL('../../docs/errors.md', import.meta.url);

/** `| \`SLUICE_X\` | 404 | meaning |` rows as [code, status]. */
function documentedCodes(): [string, number][] {
  return readFileSync(DOC, 'utf8')
    .split('\n')
    .map((line) => /^\|\s*`(SLUICE_[A-Z_]+)`\s*\|\s*(\d{3})\s*\|\s*\S.*\|\s*$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => [match[1]!, Number(match[2])]);
}

it('documents every code of the catalog with its status, and nothing else', () => {
  const documented = documentedCodes();
  const catalog = Object.entries(ERROR_CATALOG).map(([code, { status }]): [string, number] => [code, status]);
  expect(new Set(documented.map(([code]) => code)).size).toBe(documented.length);
  expect([...documented].sort()).toEqual([...catalog].sort());
});
