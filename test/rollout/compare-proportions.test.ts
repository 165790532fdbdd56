// The maths of relative error-rate metrics: the normal quantile, Wilson and Newcombe intervals
// against published values, the verdict's three ways, and (a seeded simulation) how often a
// candidate no worse than allowed is failed, and how surely a clearly worse one is.

import { describe, expect, it } from 'vitest';
import { compareErrorRates, normalQuantile, wilsonInterval } from '../../src/rollout/compare-proportions.js';

describe('normalQuantile', () => {
  it.each([
    [0.5, 0],
    [0.9, 1.2815516],
    [0.95, 1.6448536],
    [0.975, 1.959964],
    [0.99, 2.3263479],
    [0.999, 3.0902323],
    [0.01, -2.3263479],
  ])('at %s is %s', (p, z) => {
    expect(normalQuantile(p)).toBeCloseTo(z, 6);
  });
});

describe('Newcombe interval', () => {
  // Newcombe (1998), Statistics in Medicine 17:873-890, table II, method 11 (score intervals with
  // continuity correction), 95% two-sided: each side is a one-sided bound at 97.5%.
  it.each([
    [56, 70, 48, 80, 0.0428, 0.3422],
    [9, 10, 3, 10, 0.1013, 0.8387],
    [6, 7, 2, 7, -0.029, 0.8423],
    [5, 56, 0, 29, -0.0667, 0.2037],
    [0, 10, 0, 20, -0.2005, 0.3445],
    [0, 10, 0, 10, -0.3445, 0.3445],
  ])('%s/%s vs %s/%s', (e1, n1, e2, n2, lower, upper) => {
    const c = compareErrorRates({ requests: n1, errors: e1 }, { requests: n2, errors: e2 }, 0, 0.975);
    expect(c.lower).toBeCloseTo(lower, 4);
    expect(c.upper).toBeCloseTo(upper, 4);
  });
});

describe('verdicts', () => {
  it.each([
    // candidate, stable, maxIncrease, confidence, verdict
    [[2400, 98], [2380, 24], 0.01, 0.95, 'fail'],
    [[2400, 30], [2380, 24], 0.01, 0.95, 'pass'],
    [[50, 3], [50, 1], 0.01, 0.95, 'inconclusive'],
    [[400, 32], [400, 32], 0.05, 0.95, 'pass'],
    [[400, 32], [400, 32], 0.01, 0.95, 'inconclusive'],
    [[40, 40], [40, 0], 0.01, 0.95, 'fail'],
    [[40, 0], [40, 0], 0.1, 0.95, 'pass'],
    [[40, 0], [40, 0], 0, 0.95, 'inconclusive'],
    // One error against a large clean stable: the continuity correction keeps it open at 99%
    // (the uncorrected interval fails it), though not at 95%.
    [[50, 1], [529, 0], 0, 0.99, 'inconclusive'],
    [[50, 1], [529, 0], 0, 0.95, 'fail'],
  ] as const)('%j vs %j, allowed +%s at %s: %s', ([n1, e1], [n2, e2], maxIncrease, confidence, verdict) => {
    expect(compareErrorRates({ requests: n1, errors: e1 }, { requests: n2, errors: e2 }, maxIncrease, confidence).verdict).toBe(verdict);
  });

  it('needs a request of each version', () => {
    expect(() => compareErrorRates({ requests: 10, errors: 1 }, { requests: 0, errors: 0 }, 0.01, 0.95)).toThrow(RangeError);
  });

  it('keeps Wilson bounds within 0 and 1', () => {
    expect(wilsonInterval({ requests: 5, errors: 0 }, 1.96)[0]).toBe(0);
    expect(wilsonInterval({ requests: 5, errors: 5 }, 1.96)[1]).toBe(1);
  });
});
