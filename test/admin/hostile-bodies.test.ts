// Fuzzing the mutating routes with 2,000 malformed or hostile requests — wrong types, huge and
// odd numbers, deep nesting, unicode and control characters in names, oversized strings, bodies
// that are not JSON: never a 5xx, and the desired state and revision stay exactly as they were.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarness, predictBody, send, type Harness } from './harness.js';

let h: Harness;

beforeAll(async () => {
  h = await openHarness();
  const put = await send(h.app, 'PUT', '/v1/services/predict', predictBody());
  expect(put.statusCode).toBe(200);
});

afterAll(async () => {
  await h.cleanup();
});

const oddNumber = fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, -0.000001, 1e-320, 18446744073709551616, -1, 100.001, 65536);
const oddString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', 'blue\r\nx-injected: 1', '🟦', 'ＢＬＵＥ', '../../etc/passwd', '<script>', "'; DROP TABLE revisions; --"),
);
const wrongType = fc.oneof(oddNumber, oddString, fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({}));

/** Deeply nested JSON text (built as text: the test's own JSON.stringify would run out of stack). */
function nested(depth: number): string {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    open += i % 2 === 0 ? '{"a":' : '[';
    close = (i % 2 === 0 ? '}' : ']') + close;
  }
  return `${open}"bottom"${close}`;
}

/** A body that no route can accept. */
const hostileBody: fc.Arbitrary<unknown> = fc.oneof(
  // A sound service with one field made wrong.
  fc
    .record({ key: fc.constantFrom('listener', 'match', 'hosts', 'versions', 'weights', 'stable', 'pinHeader', 'timeout', 'affinity', 'mirror', 'rules'), value: wrongType })
    .map(({ key, value }) => ({ ...predictBody(), [key]: value, stable: key === 'stable' ? value : 'nope' })),
  fc.record({ blue: oddNumber, green: wrongType }),
  fc.record({ version: wrongType }),
  fc.record({ port: fc.oneof(oddNumber, oddString) }),
  fc.integer({ min: 50, max: 100_000 }).map(nested),
  fc.dictionary(oddString, wrongType, { minKeys: 1, maxKeys: 5 }),
  fc.string({ maxLength: 60 }).map((text) => `{${text}`),
  fc.constantFrom('x'.repeat(1_200_000), JSON.stringify({ blue: 'x'.repeat(2_000_000) })),
);

const name = fc.oneof(fc.constant('predict'), fc.constantFrom('PREDICT', 'prédict', '🟦', 'a'.repeat(300), '%00', '..%2F..'));

const call = fc.record({
  route: fc.constantFrom(
    ['PUT', (n: string) => `/v1/services/${n}`],
    ['PUT', (n: string) => `/v1/services/${n}/weights`],
    ['POST', (n: string) => `/v1/services/${n}/promote`],
    ['POST', (n: string) => `/v1/services/${n}/rollback`],
    ['PUT', (n: string) => `/v1/listeners/${n}`],
    ['POST', () => `/v1/revisions/1/restore`],
  ) as fc.Arbitrary<[string, (n: string) => string]>,
  name,
  body: hostileBody,
});

describe('hostile request bodies', () => {
  it('get 4xx, never 5xx, and change nothing (2,000 requests)', async () => {
    const before = h.store.current();
    const samples = fc.sample(call, { numRuns: 2000, seed: 4242 });
    const statuses = new Map<number, number>();
    for (const { route, name: target, body } of samples) {
      const [method, path] = route;
      const url = path(encodeURIComponent(target).replace(/%25/g, '%'));
      const res = await send(h.app, method as 'PUT' | 'POST', url, body, { 'if-match': `"${before.revision}"` });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      expect(res.statusCode, `${method} ${url}`).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, `${method} ${url}`).toBeLessThan(500);
      expect(h.store.current()).toBe(before);
    }
    expect(h.store.current().revision).toBe(before.revision);
    expect((await h.store.audit({ limit: 10 })).length).toBe(1);
    expect([...statuses.keys()].every((status) => status >= 400 && status < 500)).toBe(true);
  }, 120_000);
});
