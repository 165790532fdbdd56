// Property: any sequence of changes, valid or not, leaves the store in a valid state with
// strictly increasing revisions and one audit entry per commit; a change that changes nothing
// keeps the revision and the state.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../errors.js';
import type { ServiceBody } from '../model/schema.js';
import type { DesiredState } from '../model/types.js';
import { validateState } from '../model/validate.js';
import type { Change } from './changes.js';
import { SqliteAdapter } from './sqlite-adapter.js';
import { Store } from './store.js';

const initialState: DesiredState = {
  revision: 0,
  listeners: { default: { name: 'default', address: '0.0.0.0', port: 8080 } },
  services: {},
};

// Small pools so that sequences hit the interesting collisions: shared names, ports, routes.
const VERSIONS = ['blue', 'green', 'red'];
const serviceName = fc.constantFrom('predict', 'rank');
const versionName = fc.constantFrom(...VERSIONS);
const listenerName = fc.oneof(
  { arbitrary: fc.constant('default'), weight: 4 },
  { arbitrary: fc.constantFrom('edge', 'nope'), weight: 1 },
);

/** Weights over `names` that sum to exactly 100 in hundredths. */
function splitOver(names: string[]): fc.Arbitrary<Record<string, number>> {
  return fc
    .array(fc.integer({ min: 0, max: 10_000 }), { minLength: names.length - 1, maxLength: names.length - 1 })
    .map((cuts) => {
      const bounds = [0, ...cuts.sort((a, b) => a - b), 10_000];
      return Object.fromEntries(names.map((name, i) => [name, ((bounds[i + 1] ?? 0) - (bounds[i] ?? 0)) / 100]));
    });
}

const someVersions = fc.subarray(VERSIONS, { minLength: 1 });
const weights = fc.oneof(
  someVersions.chain(splitOver),
  fc.dictionary(versionName, fc.constantFrom(0, 10, 50, 90, 100, 33.333, 99, 150, -50), { maxKeys: 3 }),
);

const validServiceBody: fc.Arbitrary<ServiceBody> = someVersions.chain((names) =>
  fc.record({
    listener: listenerName,
    match: fc.record({ prefix: fc.constantFrom('/predict', '/rank') }),
    hosts: fc.constantFrom<string[]>(['*'], ['api.example']),
    versions: fc.constant(names.map((name, i) => ({ name, endpoints: [{ address: '127.0.0.1', port: 5001 + i }] }))),
    weights: splitOver(names),
    stable: fc.constantFrom(...names),
  }),
);

const anyServiceBody: fc.Arbitrary<ServiceBody> = fc.record(
  {
    listener: listenerName,
    match: fc.record({ prefix: fc.constantFrom('/predict', '/rank') }),
    hosts: fc.constantFrom<string[]>(['*'], ['api.example'], ['API.example', 'api.example']),
    versions: fc.array(
      fc.record({ name: versionName, endpoints: fc.constant([{ address: '127.0.0.1', port: 5001 }]) }),
      { minLength: 1, maxLength: 3 },
    ),
    weights,
    stable: versionName,
    timeout: fc.constantFrom('30s', '1m30s', '1.0001s'),
  },
  { requiredKeys: ['match', 'versions'] },
);

const serviceBody = fc.oneof({ arbitrary: validServiceBody, weight: 3 }, { arbitrary: anyServiceBody, weight: 1 });

const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ kind: fc.constant('putService' as const), name: serviceName, body: serviceBody }),
  fc.record({ kind: fc.constant('deleteService' as const), name: serviceName }),
  fc.record({ kind: fc.constant('setWeights' as const), name: serviceName, weights }),
  fc.record({ kind: fc.constant('promote' as const), name: serviceName, version: versionName }),
  fc.record({ kind: fc.constant('rollback' as const), name: serviceName }),
  fc.record({
    kind: fc.constant('putListener' as const),
    name: listenerName,
    body: fc.record({ port: fc.constantFrom(8080, 9090), address: fc.constantFrom('0.0.0.0', '127.0.0.1', '10.0.0.1') }),
  }),
  fc.record({ kind: fc.constant('deleteListener' as const), name: listenerName }),
);

describe('Store under random change sequences', () => {
  it('only ever holds valid states, with strictly increasing revisions and an audit entry per commit', async () => {
    let commits = 0;
    let refusals = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 30 }), async (changes) => {
        const store = await Store.open(SqliteAdapter.open(':memory:'), { initialState });
        try {
          let revision = 0;
          for (const c of changes) {
            const before = store.current();
            try {
              const result = await store.apply(c, { actor: 'fuzz' });
              if (result.unchanged) {
                expect(result.revision).toBe(revision);
                expect(store.current()).toBe(before);
              } else {
                expect(result.revision).toBe(revision + 1);
                revision = result.revision;
                commits += 1;
              }
            } catch (error) {
              expect(error).toBeInstanceOf(SluiceError);
              expect(store.current()).toBe(before);
              refusals += 1;
            }
            expect(store.current().revision).toBe(revision);
            validateState(store.current());
          }
          const audit = await store.audit({ limit: 1000 });
          expect(audit.map((e) => e.revision)).toEqual(Array.from({ length: revision }, (_, i) => revision - i));
        } finally {
          await store.close();
        }
      }),
      { numRuns: 150 },
    );
    // The generators must exercise both outcomes, or the property says little.
    expect(commits).toBeGreaterThan(100);
    expect(refusals).toBeGreaterThan(100);
  });
});
