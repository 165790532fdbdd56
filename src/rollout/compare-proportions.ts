// The statistics of a relative error-rate metric: one-sided confidence bounds on "candidate error
// rate minus stable error rate" (Newcombe's hybrid score interval from two continuity-corrected
// Wilson intervals, his method 11, honest at small counts and at 0 or 100% errors) and the verdict
// they give against an allowed increase. PURE: numbers in, numbers out; no rollout, clock or I/O.

/** Requests and the errors among them, for one version over one window. */
export interface LoadTotals {
  requests: number;
  errors: number;
}

export type ComparisonVerdict = 'pass' | 'fail' | 'inconclusive';

export interface ErrorRateComparison {
  /** Observed candidate error rate minus the stable's. */
  increase: number;
  /** The increase is at least this, at the confidence asked for (one-sided). */
  lower: number;
  /** The increase is at most this, at the confidence asked for (one-sided). */
  upper: number;
  /**
   * `fail` when `lower` is above the allowed increase (the candidate is shown worse than allowed),
   * `pass` when `upper` is at or below it (shown within the allowance), else `inconclusive`.
   */
  verdict: ComparisonVerdict;
}

// Acklam's rational approximation of the standard normal quantile (relative error below 1.2e-9).
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const LOW_TAIL = 0.02425;

function polynomial(coefficients: readonly number[], x: number): number {
  return coefficients.reduce((sum, c) => sum * x + c, 0);
}

/** The z with P(Z ≤ z) = p for a standard normal Z; p strictly between 0 and 1. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile needs 0 < p < 1, not ${p}`);
  if (p < LOW_TAIL) {
    const q = Math.sqrt(-2 * Math.log(p));
    return polynomial(C, q) / (polynomial(D, q) * q + 1);
  }
  if (p > 1 - LOW_TAIL) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (polynomial(A, r) * q) / (polynomial(B, r) * r + 1);
}

/**
 * Wilson's score interval for errors/requests with critical value z and a continuity correction
 * (Newcombe's method 4): [low, high]. The correction keeps a lone error in a small sample from
 * looking like proof of a worse rate when the other version's sample is large and clean.
 */
export function wilsonInterval({ requests: n, errors }: LoadTotals, z: number): [number, number] {
  const p = errors / n;
  const z2 = z * z;
  const low = errors === 0 ? 0 : (2 * n * p + z2 - 1 - z * Math.sqrt(z2 - 2 - 1 / n + 4 * p * (n * (1 - p) + 1))) / (2 * (n + z2));
  const high = errors === n ? 1 : (2 * n * p + z2 + 1 + z * Math.sqrt(z2 + 2 - 1 / n + 4 * p * (n * (1 - p) - 1))) / (2 * (n + z2));
  return [Math.max(0, low), Math.min(1, high)];
}

/**
 * Compares the candidate's error rate with the stable's: each bound on the increase holds with
 * probability `confidence` on its own, so at a true increase exactly `maxIncrease` a `fail` comes
 * at most about 1 − confidence of the time (less for any smaller true increase). Both samples need
 * at least one request; deciding whether a sample is big enough to judge is the caller's.
 */
export function compareErrorRates(candidate: LoadTotals, stable: LoadTotals, maxIncrease: number, confidence: number): ErrorRateComparison {
  if (candidate.requests < 1 || stable.requests < 1) throw new RangeError('compareErrorRates needs at least one request of each version');
  const z = normalQuantile(confidence);
  const pc = candidate.errors / candidate.requests;
  const ps = stable.errors / stable.requests;
  const [lowC, highC] = wilsonInterval(candidate, z);
  const [lowS, highS] = wilsonInterval(stable, z);
  const increase = pc - ps;
  const lower = increase - Math.hypot(pc - lowC, highS - ps);
  const upper = increase + Math.hypot(highC - pc, ps - lowS);
  const verdict: ComparisonVerdict = lower > maxIncrease ? 'fail' : upper <= maxIncrease ? 'pass' : 'inconclusive';
  return { increase, lower, upper, verdict };
}
