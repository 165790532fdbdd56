// newRollout() as a table: what a rollout body may leave out and the complete rollout it then
// becomes (no analysis: no metrics and the default interval; no hold on the last weighted step:
// "0s"), and every field that stays required, refused with its JSON-pointer path.

import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/errors.js';
import { newRollout, type RolloutBody } from '../../src/model/rollout.js';
import type { Rollout } from '../../src/model/types.js';
import { iso, predictService, T0 } from './fixtures.js';

const NO_ANALYSIS = { interval: '30s', minRequests: 50, failureLimit: 0, inconclusiveLimit: 3, metrics: [] };
const FLEET = { interval: '20s', metrics: [{ name: 'errors', source: 'fleet' as const, maxErrorRate: 0.05 }] };

function start(body: unknown): Rollout {
  return newRollout(predictService(), body as RolloutBody, iso(T0), 'alice');
}

interface Accepted {
  name: string;
  body: unknown;
  expected: Partial<Rollout>;
}

const accepted: Accepted[] = [
  {
    name: 'no analysis: no metrics, the default interval and limits',
    body: { candidate: 'green', steps: [{ weight: 10, hold: '10m' }, { approve: true }, { weight: 100, hold: '1m' }] },
    expected: { analysis: NO_ANALYSIS, steps: [{ weight: 10, hold: '10m' }, { approve: true }, { weight: 100, hold: '1m' }] },
  },
  {
    name: 'no hold on the last weighted step: 0s',
    body: { candidate: 'green', steps: [{ weight: 10, hold: '10m' }, { weight: 100 }], analysis: FLEET },
    expected: { steps: [{ weight: 10, hold: '10m' }, { weight: 100, hold: '0s' }] },
  },
  {
    name: 'the last weighted step followed by an approval gate may leave its hold out too',
    body: { candidate: 'green', steps: [{ weight: 10, hold: '1m' }, { weight: 50 }, { approve: true }] },
    expected: { steps: [{ weight: 10, hold: '1m' }, { weight: 50, hold: '0s' }, { approve: true }] },
  },
  {
    name: 'a single step without hold nor analysis',
    body: { candidate: 'green', steps: [{ weight: 100 }] },
    expected: { steps: [{ weight: 100, hold: '0s' }], analysis: NO_ANALYSIS, proxyTimeout: '5m' },
  },
  {
    name: 'notify URLs are kept as given',
    body: { candidate: 'green', steps: [{ weight: 100 }], notify: ['https://hooks.example/a', 'http://127.0.0.1:9/b?x=1'] },
    expected: { notify: ['https://hooks.example/a', 'http://127.0.0.1:9/b?x=1'] },
  },
  {
    name: 'an empty notify list is kept (no notification at all)',
    body: { candidate: 'green', steps: [{ weight: 100 }], notify: [] },
    expected: { notify: [] },
  },
];

interface Refused {
  name: string;
  body: unknown;
  code: string;
  path: string;
}

const refused: Refused[] = [
  { name: 'a weighted step before the last without hold', body: { candidate: 'green', steps: [{ weight: 10 }, { weight: 100 }] }, code: 'SLUICE_INVALID_BODY', path: '/steps/0/hold' },
  {
    name: 'a weighted step before an approval and another weighted step, without hold',
    body: { candidate: 'green', steps: [{ weight: 10 }, { approve: true }, { weight: 100 }] },
    code: 'SLUICE_INVALID_BODY',
    path: '/steps/0/hold',
  },
  { name: 'a step with neither weight nor approve', body: { candidate: 'green', steps: [{}] }, code: 'SLUICE_INVALID_BODY', path: '/steps/0' },
  {
    name: 'a metric missing its threshold',
    body: { candidate: 'green', steps: [{ weight: 100 }], analysis: { interval: '30s', metrics: [{ name: 'errors', source: 'fleet' }] } },
    code: 'SLUICE_INVALID_BODY',
    path: '/analysis/metrics/0/maxErrorRate',
  },
  {
    name: 'a notify URL that is not http(s)',
    body: { candidate: 'green', steps: [{ weight: 100 }], notify: ['https://hooks.example/a', 'ftp://hooks.example/b'] },
    code: 'SLUICE_INVALID_BODY',
    path: '/notify/1',
  },
  {
    name: 'a notify URL with credentials',
    body: { candidate: 'green', steps: [{ weight: 100 }], notify: ['https://user:secret@hooks.example/a'] },
    code: 'SLUICE_INVALID_BODY',
    path: '/notify/0',
  },
  {
    name: 'a notify URL listed twice',
    body: { candidate: 'green', steps: [{ weight: 100 }], notify: ['https://hooks.example/a', 'https://hooks.example/a'] },
    code: 'SLUICE_INVALID_BODY',
    path: '/notify/1',
  },
  {
    name: 'more than five notify URLs',
    body: { candidate: 'green', steps: [{ weight: 100 }], notify: [1, 2, 3, 4, 5, 6].map((n) => `https://hooks.example/${n}`) },
    code: 'SLUICE_INVALID_BODY',
    path: '/notify',
  },
];

describe('a rollout body becomes a complete rollout', () => {
  it.each(accepted)('$name', ({ body, expected }) => {
    const rollout = start(body);
    expect(rollout).toMatchObject(expected);
    // Complete whatever was left out: every step has its hold, the analysis every field.
    for (const step of rollout.steps) expect('approve' in step || typeof step.hold === 'string').toBe(true);
    expect(Object.keys(rollout.analysis).sort()).toEqual(['failureLimit', 'inconclusiveLimit', 'interval', 'metrics', 'minRequests']);
  });

  it('leaves notify out when the body does (the server-wide list applies)', () => {
    expect(start({ candidate: 'green', steps: [{ weight: 100 }] })).not.toHaveProperty('notify');
  });

  it.each(refused)('refuses $name at $path', ({ body, code, path }) => {
    let error: unknown;
    try {
      start(body);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe(code);
    expect((error as SluiceError).path).toBe(path);
  });
});
