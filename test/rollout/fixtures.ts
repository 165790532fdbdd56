// Shared pieces of the rollout tests: the seed service, a rollout body with short steps, and a
// rollout in any phase built through the real model functions (never by hand-written JSON).

import { newRollout, type RolloutBody } from '../../src/model/rollout.js';
import { normalizeService } from '../../src/model/validate.js';
import type { Rollout, Service } from '../../src/model/types.js';

export const T0 = Date.parse('2030-01-01T00:00:00.000Z');

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function serviceBody() {
  return {
    match: { prefix: '/predict' },
    versions: [
      { name: 'blue', endpoints: [{ address: '127.0.0.1', port: 5001 }] },
      { name: 'green', endpoints: [{ address: '127.0.0.1', port: 5002 }] },
    ],
    weights: { blue: 100, green: 0 },
    stable: 'blue',
  };
}

export function predictService(): Service {
  return normalizeService('predict', serviceBody());
}

/** A rollout body that names its analysis. */
export type BodyWithAnalysis = RolloutBody & { analysis: NonNullable<RolloutBody['analysis']> };

/** Steps 20% (hold 60s) → approval → 50% (hold 60s); analysis every 20s on the fleet error rate. */
export function rolloutBody(overrides: Partial<BodyWithAnalysis> = {}): BodyWithAnalysis {
  return {
    candidate: 'green',
    steps: [{ weight: 20, hold: '60s' }, { approve: true }, { weight: 50, hold: '60s' }],
    analysis: {
      interval: '20s',
      minRequests: 10,
      failureLimit: 0,
      inconclusiveLimit: 2,
      metrics: [{ name: 'errors', source: 'fleet', maxErrorRate: 0.05 }],
    },
    ...overrides,
  };
}

/** The comparison of the shadow rollouts' steps. */
export const SHADOW_COMPARE = { kind: 'numeric', path: '/prediction', absolute: 0.001 } as const;

/** The shadow step's shadow on the service: 50% of requests copied to green, compared as SHADOW_COMPARE. */
export const STEP_SHADOW = { to: 'green', percent: 50, compare: SHADOW_COMPARE, keep: 'answers' } as const;

/**
 * Shadow 50% (hold 60s) → approval → 50% (hold 60s); analysis every 20s, the agreement at the
 * shadow step and the fleet error rate at the weight step.
 */
export function shadowRolloutBody(overrides: Partial<BodyWithAnalysis> = {}): BodyWithAnalysis {
  const base = rolloutBody();
  return rolloutBody({
    steps: [{ shadow: 50, hold: '60s' }, { approve: true }, { weight: 50, hold: '60s' }],
    shadowCompare: { ...SHADOW_COMPARE },
    analysis: { ...base.analysis, metrics: [{ name: 'agreement', source: 'shadow', minAgreement: 0.95 }, ...base.analysis.metrics] },
    ...overrides,
  });
}

export function rollout(fields: Partial<Rollout> = {}, body: RolloutBody = rolloutBody()): Rollout {
  return { ...newRollout(predictService(), body, iso(T0), 'alice'), ...fields };
}

/** A rollout holding step 0 since `start` for 60 s, its next analysis at `start` + 20 s. */
export function holding(start = T0, fields: Partial<Rollout> = {}, body?: RolloutBody): Rollout {
  return rollout(
    {
      phase: 'holding',
      stepWeights: { blue: 80, green: 20 },
      stepRevision: 3,
      holdStartedAt: iso(start),
      holdUntil: iso(start + 60_000),
      windowStart: iso(start),
      nextAnalysisAt: iso(start + 20_000),
      ...fields,
    },
    body,
  );
}
