// The words a relative metric's analysis leaves in the audit log, the event stream and the CLI:
// both versions' rates and samples, the increase, its confidence bound against the allowance and
// the verdict; and what a measurement without a comparison (too few requests) says.

import { describe, expect, it } from 'vitest';
import { describeDecision } from '../../src/model/rollout.js';
import type { Measurement, RolloutDecision } from '../../src/model/types.js';
import { compareErrorRates } from '../../src/rollout/compare-proportions.js';

function analysisDecision(outcome: Measurement['outcome'], measurement: Measurement): RolloutDecision {
  return { at: '2026-01-01T00:00:00.000Z', event: 'analysis', step: 1, actor: 'rollout', outcome, measurements: [measurement] };
}

function relative(candidate: { requests: number; errors: number }, stable: { requests: number; errors: number }): Measurement {
  const c = compareErrorRates(candidate, stable, 0.01, 0.95);
  return {
    metric: 'errors',
    outcome: c.verdict,
    value: c.increase,
    ...candidate,
    comparison: { stableRequests: stable.requests, stableErrors: stable.errors, maxIncrease: 0.01, confidence: 0.95, lower: c.lower, upper: c.upper },
  };
}

describe('describeDecision for a relative metric', () => {
  it('names both rates, the increase, the bound that decided, and both samples', () => {
    const fail = relative({ requests: 2400, errors: 98 }, { requests: 2380, errors: 24 });
    expect(describeDecision(analysisDecision('fail', fail))).toMatch(
      /^step 1 analysis fail \(errors 4\.08% vs stable 1\.01%, \+3\.07 points, at least \+2\.\d+ > \+1 at 95%, 2,400\/2,380 requests\)$/,
    );
    const pass = relative({ requests: 2400, errors: 30 }, { requests: 2380, errors: 24 });
    expect(describeDecision(analysisDecision('pass', pass))).toMatch(
      /^step 1 analysis pass \(errors 1\.25% vs stable 1\.01%, \+0\.24 points, at most \+0\.\d+ ≤ \+1 at 95%, 2,400\/2,380 requests\)$/,
    );
    const open = relative({ requests: 60, errors: 3 }, { requests: 60, errors: 1 });
    expect(describeDecision(analysisDecision('inconclusive', open))).toMatch(
      /^step 1 analysis inconclusive \(errors 5% vs stable 1\.67%, \+3\.33 points, -\d+(\.\d+)? to \+\d+(\.\d+)?, around \+1 at 95%, 60\/60 requests\)$/,
    );
  });

  it('gives only the samples when there were too few requests to compare', () => {
    const few: Measurement = {
      metric: 'errors',
      outcome: 'inconclusive',
      requests: 700,
      errors: 3,
      comparison: { stableRequests: 0, stableErrors: 0, maxIncrease: 0.01, confidence: 0.95 },
      reason: 'no requests to stable blue in this window',
    };
    expect(describeDecision(analysisDecision('inconclusive', few))).toBe('step 1 analysis inconclusive (errors inconclusive, 700/0 requests)');
  });
});
