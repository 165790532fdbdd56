// Property: random admin requests (sound, broken and garbage) never get a 5xx, never leave an
// invalid state, and move the revision by exactly one per accepted mutation that changed
// something (one that changed nothing answers `unchanged` and keeps the state).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateState } from '../../src/model/validate.js';
import { openHarness, predictBody, send } from './harness.js';

type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';
interface Request {
  method: Method;
  url: string;
  body?: unknown;
  headers: Record<string, string>;
}

const service = fc.oneof(
  { arbitrary: fc.constant('predict'), weight: 6 },
  { arbitrary: fc.constantFrom('rank', 'Bad_Name'), weight: 1 },
);
const version = fc.constantFrom('blue', 'green', 'red');
const split = fc.integer({ min: 0, max: 100 }).map((green) => ({ blue: 100 - green, green }));

/** Well-formed and broken bodies: valid services, small mutations of them, random JSON, garbage. */
const serviceBody = fc.oneof(
  { arbitrary: fc.constant(predictBody()), weight: 3 },
  fc.record({ prefix: fc.constantFrom('/predict', '/rank', 'nope'), weights: split }).map(({ prefix, weights }) => ({
    ...predictBody(),
    match: { prefix },
    weights,
  })),
  fc.record({ key: fc.constantFrom('listener', 'hosts', 'versions', 'weights', 'stable', 'timeout', 'affinity'), value: fc.jsonValue() }).map(
    ({ key, value }) => ({ ...predictBody(), [key]: value }),
  ),
  fc.jsonValue(),
  fc.string().map((text) => `{${text}`),
);
/** Mostly a sound body, sometimes anything at all. */
function mostly<T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: good, weight: 4 }, { arbitrary: fc.jsonValue(), weight: 1 });
}

const request: fc.Arbitrary<Request> = fc
  .record({
    call: fc.oneof(
      fc.record({ method: fc.constant<Method>('PUT'), url: service.map((s) => `/v1/services/${s}`), body: serviceBody }),
      fc.record({
        method: fc.constant<Method>('PUT'),
        url: service.map((s) => `/v1/services/${s}/weights`),
        body: mostly(fc.oneof(split, fc.dictionary(version, fc.double({ min: -10, max: 110, noNaN: true })))),
      }),
      fc.record({
        method: fc.constant<Method>('POST'),
        url: service.map((s) => `/v1/services/${s}/promote`),
        body: mostly(version.map((v) => ({ version: v }))),
      }),
      fc.record({ method: fc.constant<Method>('POST'), url: service.map((s) => `/v1/services/${s}/rollback`) }),
      fc.record({ method: fc.constantFrom<Method>('GET', 'DELETE'), url: service.map((s) => `/v1/services/${s}`) }),
      fc.record({
        method: fc.constant<Method>('PUT'),
        url: fc.constantFrom('/v1/listeners/default', '/v1/listeners/edge'),
        body: mostly(fc.record({ port: fc.integer({ min: -1, max: 70000 }) })),
      }),
      fc.record({ method: fc.constant<Method>('DELETE'), url: fc.constantFrom('/v1/listeners/default', '/v1/listeners/edge') }),
    ),
    ifMatch: fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 4 },
      { arbitrary: fc.constantFrom('0', '"1"', '2', 'junk'), weight: 1 },
    ),
  })
  .map(({ call, ifMatch }): Request => {
    const headers: Record<string, string> = ifMatch === undefined ? {} : { 'if-match': ifMatch };
    return { ...call, headers };
  });

describe('admin API under random requests', () => {
  it('never answers 5xx, never holds an invalid state, and moves the revision by one per accepted mutation', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 20 }), async (requests) => {
        const h = await openHarness();
        try {
          for (const r of requests) {
            const before = h.store.current();
            const res = await send(h.app, r.method, r.url, r.body, r.headers);
            expect(res.statusCode).toBeLessThan(500);
            const after = h.store.current();
            if (r.method !== 'GET' && res.statusCode === 200 && res.json().unchanged === true) {
              expect(after).toBe(before);
              expect(res.json().revision).toBe(before.revision);
            } else if (r.method !== 'GET' && res.statusCode === 200) {
              expect(after.revision).toBe(before.revision + 1);
              expect(res.headers['etag']).toBe(`"${after.revision}"`);
              expect(res.json().revision).toBe(after.revision);
            } else {
              expect(after).toBe(before);
            }
            if (res.statusCode >= 400) expect(Object.keys(res.json().error)).toContain('code');
            validateState(after);
          }
          expect(h.logs.filter((line) => Number(line['level']) >= 50)).toEqual([]);
        } finally {
          await h.cleanup();
        }
      }),
      { numRuns: 80 },
    );
  });
});
