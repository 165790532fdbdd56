// integerWeights and versionOrder as tables: percentages → integer weights of a fixed total
// (10000, so a percentage with two decimals is an exact number of hundredths) in a fixed order
// (stable first, then the other versions as declared). Every expected weight is worked out by
// hand in its comment, never copied from the translator's output, so a golden file regenerated
// from a wrong translator still fails here. Through `translate` too, for both flavours.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DesiredState, Service, Weights } from '../model/types.js';
import type { ResourceJson } from './resources.js';
import { predictService, stateOf } from './fixtures.test-support.js';
import { translate, translateForGrpcClients } from './translate.js';
import { WEIGHT_TOTAL, integerWeights, versionOrder } from './weights.js';

/** A valid service with one IP endpoint per version, declared in the order given. */
function service(versions: string[], weights: Weights, stable: string): Service {
  return predictService({
    versions: versions.map((name, i) => ({ name, endpoints: [{ address: '10.0.0.1', port: 5001 + i }] })),
    weights,
    stable,
  });
}


describe('WEIGHT_TOTAL', () => {
  it('is 100 % in hundredths of a percent', () => expect(WEIGHT_TOTAL).toBe(10_000));
});

interface WeightCase {
  name: string;
  versions: string[];
  weights: Weights;
  stable: string;
  expected: [string, number][];
}

// A weight is its percentage × 100 (10000 / 100), exactly: inputs have at most two decimals, so
// no rounding rule is ever needed beyond undoing binary floating point (0.29 * 100 is
// 28.999999999999996 in a double: a truncating or flooring translator would emit 28).
const weightCases: WeightCase[] = [
  { name: 'whole percentages', versions: ['blue', 'green'], weights: { blue: 90, green: 10 }, stable: 'blue',
    // 90 × 100 = 9000, 10 × 100 = 1000; 9000 + 1000 = 10000
    expected: [['blue', 9000], ['green', 1000]] },
  { name: 'halves', versions: ['blue', 'green'], weights: { blue: 12.5, green: 87.5 }, stable: 'blue',
    // 12.5 × 100 = 1250, 87.5 × 100 = 8750; 1250 + 8750 = 10000
    expected: [['blue', 1250], ['green', 8750]] },
  { name: 'thirds with two decimals', versions: ['a', 'b', 'c'], weights: { a: 33.33, b: 33.33, c: 33.34 }, stable: 'a',
    // 3333 + 3333 + 3334 = 10000: the odd hundredth stays where the operator put it (on c)
    expected: [['a', 3333], ['b', 3333], ['c', 3334]] },
  { name: 'an odd hundredth on the stable version', versions: ['a', 'b', 'c'], weights: { a: 33.34, b: 33.33, c: 33.33 }, stable: 'a',
    // 3334 + 3333 + 3333 = 10000
    expected: [['a', 3334], ['b', 3333], ['c', 3333]] },
  { name: 'one decimal, as in the canary-split golden case', versions: ['blue', 'green'], weights: { blue: 89.5, green: 10.5 }, stable: 'blue',
    // 8950 + 1050 = 10000
    expected: [['blue', 8950], ['green', 1050]] },
  { name: 'the smallest share', versions: ['blue', 'green'], weights: { blue: 99.99, green: 0.01 }, stable: 'blue',
    // 99.99 × 100 = 9999, 0.01 × 100 = 1
    expected: [['blue', 9999], ['green', 1]] },
  { name: 'a share a double holds just below its hundredths', versions: ['blue', 'green'], weights: { blue: 99.71, green: 0.29 }, stable: 'blue',
    // 0.29 % = 29 hundredths (not 28), 99.71 % = 9971; 9971 + 29 = 10000
    expected: [['blue', 9971], ['green', 29]] },
  { name: 'a share a double holds just above its hundredths', versions: ['blue', 'green'], weights: { blue: 99.93, green: 0.07 }, stable: 'blue',
    // 0.07 % = 7 hundredths (not 8, as rounding up would give); 9993 + 7 = 10000
    expected: [['blue', 9993], ['green', 7]] },
  { name: 'all traffic on stable: the other versions stay at 0', versions: ['blue', 'green', 'canary'], weights: { blue: 100, green: 0, canary: 0 }, stable: 'blue',
    expected: [['blue', 10000], ['green', 0], ['canary', 0]] },
];

interface OrderCase {
  name: string;
  versions: string[];
  weights: Weights;
  stable: string;
  order: string[];
}

// Stable first, then the remaining versions in their declaration order (the `versions` array):
// never by name, by weight, or by the order of the keys in the weights object.
const orderCases: OrderCase[] = [
  { name: 'stable declared first', versions: ['blue', 'green'], weights: { blue: 90, green: 10 }, stable: 'blue',
    order: ['blue', 'green'] },
  { name: 'stable declared last (after a promotion)', versions: ['blue', 'green'], weights: { blue: 0, green: 100 }, stable: 'green',
    order: ['green', 'blue'] },
  { name: 'stable in the middle: the rest keep their declaration order', versions: ['a', 'b', 'c'], weights: { a: 10, b: 80, c: 10 }, stable: 'b',
    order: ['b', 'a', 'c'] },
  { name: 'weights keys in another order than the versions', versions: ['blue', 'green', 'canary'], weights: { canary: 5, green: 5, blue: 90 }, stable: 'blue',
    order: ['blue', 'green', 'canary'] },
  { name: 'declaration order is not name order', versions: ['zeta', 'alpha', 'mid'], weights: { zeta: 20, alpha: 30, mid: 50 }, stable: 'mid',
    order: ['mid', 'zeta', 'alpha'] },
  { name: 'stable with the smallest weight still comes first', versions: ['blue', 'green'], weights: { blue: 1, green: 99 }, stable: 'blue',
    order: ['blue', 'green'] },
];

describe('integerWeights', () => {
  it.each(weightCases)('$name', ({ versions, weights, stable, expected }) => {
    const svc = service(versions, weights, stable);
    stateOf(svc);
    const result = integerWeights(svc);
    expect(result.map(({ version, weight }) => [version, weight])).toEqual(expected);
    expect(result.reduce((sum, { weight }) => sum + weight, 0)).toBe(10_000);
  });

  it('refuses, rather than emits, weights that do not sum to the total (three decimals bypassing validation)', () => {
    // round(33.333 × 100) = 3333 three times = 9999 ≠ 10000: Envoy would reject the route (or
    // scale it silently); the translator must not produce it.
    const svc = service(['a', 'b', 'c'], { a: 33.333, b: 33.333, c: 33.333 }, 'a');
    expect(() => integerWeights(svc)).toThrow(/sum to 99\.99%, not 100%/);
  });

  it('any split in hundredths becomes exactly those hundredths, summing to 10000', () => {
    const names = ['blue', 'green', 'canary', 'shadow'];
    const split = fc
      .integer({ min: 1, max: names.length })
      .chain((count) =>
        fc.tuple(
          fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: count - 1, maxLength: count - 1 }),
          fc.integer({ min: 0, max: count - 1 }),
        ),
      );
    fc.assert(
      fc.property(split, ([cuts, stableIndex]) => {
        // Cut 0..10000 into integer hundredths; the percentage is hundredths / 100.
        const bounds = [0, ...[...cuts].sort((a, b) => a - b), 10_000];
        const versions = names.slice(0, cuts.length + 1);
        const hundredths = versions.map((_, i) => bounds[i + 1]! - bounds[i]!);
        const weights = Object.fromEntries(versions.map((v, i) => [v, hundredths[i]! / 100]));
        const stable = versions[stableIndex]!;
        const result = integerWeights(service(versions, weights, stable));
        const expectedOrder = [stable, ...versions.filter((v) => v !== stable)];
        expect(result.map((w) => w.version)).toEqual(expectedOrder);
        for (const { version, weight } of result) expect(weight).toBe(hundredths[versions.indexOf(version)]);
        expect(result.reduce((sum, w) => sum + w.weight, 0)).toBe(10_000);
      }),
      { numRuns: 300 },
    );
  });
});

describe('versionOrder', () => {
  it.each(orderCases)('$name', ({ versions, weights, stable, order }) => {
    const svc = service(versions, weights, stable);
    stateOf(svc);
    expect(versionOrder(svc)).toEqual(order);
    expect(integerWeights(svc).map((w) => w.version)).toEqual(order);
  });
});

/** The weighted split's (cluster, weight) pairs of the only service, as sent. */
function splitClusters(routes: ResourceJson): [string, number][] {
  const hosts = routes['virtual_hosts'] as { routes: ResourceJson[] }[];
  const split = hosts[0]!.routes.at(-1)!;
  expect(split['name']).toBe('predict_split');
  const clusters = ((split['route'] as ResourceJson)['weighted_clusters'] as { clusters: { name: string; weight: number }[] }).clusters;
  return clusters.map(({ name, weight }) => [name, weight]);
}

describe('the weighted split as sent', () => {
  const flavours = [
    { flavour: 'Envoy', routes: (state: DesiredState) => translate(state).routes[0]!.resource },
    { flavour: 'Envoy before 1.36', routes: (state: DesiredState) => translate(state, { capabilities: { hashSplit: false } }).routes[0]!.resource },
    { flavour: 'gRPC clients', routes: (state: DesiredState) => translateForGrpcClients(state).routes[0]!.resource },
  ];

  it.each(flavours)('$flavour: stable first, cluster per version, weights in hundredths', ({ routes }) => {
    // Declared zeta, alpha, mid; stable mid → mid, then zeta, alpha as declared.
    // 50 % → 5000, 20 % → 2000, 30 % → 3000; 5000 + 2000 + 3000 = 10000.
    const state = stateOf(service(['zeta', 'alpha', 'mid'], { alpha: 30, mid: 50, zeta: 20 }, 'mid'));
    expect(splitClusters(routes(state))).toEqual([
      ['predict_mid', 5000],
      ['predict_zeta', 2000],
      ['predict_alpha', 3000],
    ]);
  });

  it.each(flavours)('$flavour: a weight-0 version stays in the split at 0', ({ routes }) => {
    // green promoted: green 100 % → 10000 first, blue 0 % → 0 after it (still routable by its pin).
    const state = stateOf(service(['blue', 'green'], { blue: 0, green: 100 }, 'green'));
    expect(splitClusters(routes(state))).toEqual([
      ['predict_green', 10000],
      ['predict_blue', 0],
    ]);
  });
});
