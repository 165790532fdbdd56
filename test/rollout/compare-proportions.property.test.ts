// How often the relative error-rate verdict is wrong, by seeded simulation: binomial error counts
// drawn for both versions at known true rates, judged many times. A candidate as good as stable,
// or worse by exactly the allowed increase (the hardest case), is failed at most about
// 1 − confidence of the time; one clearly worse is failed nearly always once the samples are large.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareErrorRates } from '../../src/rollout/compare-proportions.js';

const TRIALS = 2_000;
/** Sampling slack on a fail rate measured over TRIALS draws (about 4 standard deviations at 5%). */
const SLACK = 0.02;

/** A seeded uniform generator on [0, 1) (mulberry32). */
function uniforms(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Exact binomial(n, p) draws by inverting its cumulative distribution; the weights are built
 * outwards from the mode so that none underflows where it matters (at n = 3,000 and p = 0.2,
 * (1 − p)^n is 0 in floating point).
 */
function binomial(n: number, p: number, random: () => number): () => number {
  const mode = Math.min(n, Math.floor((n + 1) * p));
  const weights = new Array<number>(n + 1).fill(0);
  weights[mode] = 1;
  for (let k = mode; k < n; k++) weights[k + 1] = weights[k]! * ((n - k) / (k + 1)) * (p / (1 - p));
  for (let k = mode; k > 0; k--) weights[k - 1] = (weights[k]! * (k / (n - k + 1))) * ((1 - p) / p);
  const cdf: number[] = [];
  let sum = 0;
  for (const weight of weights) cdf.push((sum += weight));
  return () => {
    const u = random() * sum;
    let low = 0;
    let high = n;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (cdf[middle]! < u) low = middle + 1;
      else high = middle;
    }
    return low;
  };
}

interface Case {
  stableRate: number;
  candidateRate: number;
  candidateRequests: number;
  stableRequests: number;
  maxIncrease: number;
  confidence: number;
  seed: number;
}

function failRate(c: Case): number {
  const random = uniforms(c.seed);
  const candidateErrors = binomial(c.candidateRequests, c.candidateRate, random);
  const stableErrors = binomial(c.stableRequests, c.stableRate, random);
  let fails = 0;
  for (let i = 0; i < TRIALS; i++) {
    const candidate = { requests: c.candidateRequests, errors: candidateErrors() };
    const stable = { requests: c.stableRequests, errors: stableErrors() };
    if (compareErrorRates(candidate, stable, c.maxIncrease, c.confidence).verdict === 'fail') fails++;
  }
  return fails / TRIALS;
}

const sizes = fc.integer({ min: 50, max: 3_000 });
const confidences = fc.constantFrom(0.9, 0.95, 0.99);
const increases = fc.constantFrom(0, 0.005, 0.01, 0.02, 0.05);
/** A stable error rate, both sample sizes, the allowance, the confidence and the draws' seed. */
const cases = fc.record({
  stableRate: fc.double({ min: 0.001, max: 0.3, noNaN: true }),
  candidateRequests: sizes,
  stableRequests: sizes,
  maxIncrease: increases,
  confidence: confidences,
  seed: fc.integer(),
});

describe('false alarms and power of the relative error-rate verdict', () => {
  it('fails a candidate as good as stable at most 1 − confidence of the time', () => {
    fc.assert(
      fc.property(cases, (c) => {
        const rate = failRate({ ...c, candidateRate: c.stableRate });
        expect(rate, JSON.stringify(c)).toBeLessThanOrEqual(1 - c.confidence + SLACK);
      }),
      { seed: 20261204, numRuns: 40 },
    );
  });

  it('fails a candidate worse by exactly the allowed increase at most 1 − confidence of the time', () => {
    fc.assert(
      fc.property(cases, (c) => {
        const rate = failRate({ ...c, candidateRate: c.stableRate + c.maxIncrease });
        expect(rate, JSON.stringify(c)).toBeLessThanOrEqual(1 - c.confidence + SLACK);
      }),
      { seed: 20261205, numRuns: 40 },
    );
  });

  it('fails a candidate worse by five points more than allowed nearly always with 6,000 requests each', () => {
    const worseCases = fc.record({
      stableRate: fc.double({ min: 0.001, max: 0.2, noNaN: true }),
      maxIncrease: increases,
      confidence: confidences,
      seed: fc.integer(),
    });
    fc.assert(
      fc.property(worseCases, (c) => {
        const rate = failRate({ ...c, candidateRate: c.stableRate + c.maxIncrease + 0.05, candidateRequests: 6_000, stableRequests: 6_000 });
        expect(rate, JSON.stringify(c)).toBeGreaterThanOrEqual(0.99);
      }),
      { seed: 20261206, numRuns: 30 },
    );
  });
});
