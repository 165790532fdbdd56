// plan() as a table: a rollout in some phase, what was observed at a fake time, and the one
// action that must follow. Rollouts are built with the model's own functions (fixtures.ts).

import { describe, expect, it } from 'vitest';
import type { AnalysisOutcome, Rollout } from '../../src/model/types.js';
import { plan, type Action, type AnalysisResult, type Observed } from '../../src/rollout/plan.js';
import { holding, iso, rollout, rolloutBody, shadowRolloutBody, STEP_SHADOW, T0 } from './fixtures.js';

function result(outcome: AnalysisOutcome, from = T0, to = T0 + 20_000): AnalysisResult {
  const measurement =
    outcome === 'pass'
      ? { metric: 'errors', outcome, value: 0, requests: 40, errors: 0 }
      : outcome === 'fail'
        ? { metric: 'errors', outcome, value: 0.5, requests: 40, errors: 20, reason: 'error rate 0.5 (20 of 40) is above maxErrorRate 0.05' }
        : { metric: 'errors', outcome, requests: 3, errors: 0, reason: '3 request(s) to green, fewer than minRequests 10' };
  return { outcome, measurements: [measurement], from, to };
}

/** Waiting for the proxies to apply step 0 (revision 3) since `since`, when its weights were set or it resumed. */
function waiting(since = T0, body?: Parameters<typeof rollout>[1]): Rollout {
  const r = rollout({ phase: 'waiting-for-proxies', stepWeights: { blue: 80, green: 20 }, stepRevision: 3 }, body);
  return { ...r, timeline: [...r.timeline, { at: iso(since), event: since === T0 ? 'weights-set' : 'resumed', step: 0, actor: 'rollout' }] };
}

const noMetrics = rolloutBody({ analysis: { interval: '20s', metrics: [] } });

interface Case {
  name: string;
  rollout: Rollout;
  observed: Partial<Observed> & { now: number };
  action: Action;
}

const cases: Case[] = [
  {
    name: 'a new rollout sets the first step weights',
    rollout: rollout(),
    observed: { now: T0 },
    action: { kind: 'set-weights', step: 0, weights: { blue: 80, green: 20 } },
  },
  {
    name: 'an approval step waits for a person',
    rollout: rollout({ step: 1 }),
    observed: { now: T0 },
    action: { kind: 'await-approval', step: 1 },
  },
  {
    name: 'past the last step the candidate is promoted',
    rollout: rollout({ step: 3 }),
    observed: { now: T0 },
    action: { kind: 'promote' },
  },
  {
    name: 'weights not yet applied everywhere: wait, until proxyTimeout (default 5m) after the wait began',
    rollout: waiting(),
    observed: { now: T0 + 5_000, stepRevisionApplied: false, pendingProxies: [{ node: 'envoy-1' }] },
    action: { kind: 'nothing', until: T0 + 300_000 },
  },
  {
    name: 'still not applied just under the deadline: keep waiting',
    rollout: waiting(),
    observed: { now: T0 + 299_999, stepRevisionApplied: false, pendingProxies: [{ node: 'envoy-1', nack: 'bad cluster' }] },
    action: { kind: 'nothing', until: T0 + 300_000 },
  },
  {
    name: 'not applied at the deadline: pause, naming the proxies and their last NACK',
    rollout: waiting(),
    observed: {
      now: T0 + 300_000,
      stepRevisionApplied: false,
      pendingProxies: [{ node: 'envoy-1', nack: 'cluster predict--green: bad TLS context' }, { node: 'envoy-2' }],
    },
    action: {
      kind: 'pause',
      reason:
        'revision 3 of step 0 was not applied within proxyTimeout 5m by 2 proxy(ies): ' +
        '"envoy-1" (last NACK: cluster predict--green: bad TLS context); "envoy-2"',
    },
  },
  {
    name: 'a failed notification recorded while waiting does not move the deadline',
    rollout: ((r: Rollout): Rollout => ({
      ...r,
      timeline: [...r.timeline, { at: iso(T0 + 200_000), event: 'notification-failed', step: 0, actor: 'rollout', reason: 'hooks.example: HTTP 500' }],
    }))(waiting()),
    observed: { now: T0 + 300_000, stepRevisionApplied: false, pendingProxies: [{ node: 'envoy-1' }] },
    action: { kind: 'pause', reason: 'revision 3 of step 0 was not applied within proxyTimeout 5m by 1 proxy(ies): "envoy-1"' },
  },
  {
    name: 'not applied past a proxyTimeout from the body, counted from the latest decision (a resume)',
    rollout: waiting(T0 + 600_000, rolloutBody({ proxyTimeout: '30s' })),
    observed: { now: T0 + 630_000, stepRevisionApplied: false, pendingProxies: [{ node: 'envoy-1' }] },
    action: { kind: 'pause', reason: 'revision 3 of step 0 was not applied within proxyTimeout 30s by 1 proxy(ies): "envoy-1"' },
  },
  {
    name: 'a rollout stored before proxyTimeout existed waits the default',
    rollout: { ...waiting(), proxyTimeout: undefined },
    observed: { now: T0 + 299_999, stepRevisionApplied: false },
    action: { kind: 'nothing', until: T0 + 300_000 },
  },
  {
    name: 'no proxy connected (applied trivially): no wait, even past the deadline',
    rollout: waiting(),
    observed: { now: T0 + 900_000, stepRevisionApplied: true, pendingProxies: [] },
    action: { kind: 'start-hold', step: 0, until: T0 + 960_000 },
  },
  {
    name: 'weights applied everywhere: the hold starts now, for the step hold',
    rollout: rollout({ phase: 'waiting-for-proxies', stepRevision: 3 }),
    observed: { now: T0 + 5_000, stepRevisionApplied: true },
    action: { kind: 'start-hold', step: 0, until: T0 + 65_000 },
  },
  {
    name: 'holding before the next analysis: nothing until then',
    rollout: holding(),
    observed: { now: T0 + 19_999 },
    action: { kind: 'nothing', until: T0 + 20_000 },
  },
  {
    name: 'holding at the next analysis: analyze the window so far',
    rollout: holding(),
    observed: { now: T0 + 20_000 },
    action: { kind: 'analyze', from: T0, to: T0 + 20_000 },
  },
  {
    name: 'a window kept open by inconclusive results is analyzed whole',
    rollout: holding(T0, { windowStart: iso(T0 + 5_000), nextAnalysisAt: iso(T0 + 40_000) }),
    observed: { now: T0 + 41_000 },
    action: { kind: 'analyze', from: T0 + 5_000, to: T0 + 41_000 },
  },
  {
    name: 'a pass during the hold is recorded',
    rollout: holding(),
    observed: { now: T0 + 20_000, analysis: result('pass') },
    action: { kind: 'record-analysis', analysis: result('pass') },
  },
  {
    name: 'a pass once the hold time is up advances',
    rollout: holding(),
    observed: { now: T0 + 60_000, analysis: result('pass') },
    action: { kind: 'advance', analysis: result('pass') },
  },
  {
    name: 'a failure beyond failureLimit 0 rolls back',
    rollout: holding(),
    observed: { now: T0 + 20_000, analysis: result('fail') },
    action: {
      kind: 'roll-back',
      reason: 'analysis failed 1 time(s), more than failureLimit 0: errors: error rate 0.5 (20 of 40) is above maxErrorRate 0.05',
      analysis: result('fail'),
    },
  },
  {
    name: 'a failure within failureLimit is recorded',
    rollout: holding(T0, {}, rolloutBody({ analysis: { ...rolloutBody().analysis, failureLimit: 1 } })),
    observed: { now: T0 + 20_000, analysis: result('fail') },
    action: { kind: 'record-analysis', analysis: result('fail') },
  },
  {
    name: 'the failure after failureLimit ones rolls back',
    rollout: holding(T0, { failures: 1 }, rolloutBody({ analysis: { ...rolloutBody().analysis, failureLimit: 1 } })),
    observed: { now: T0 + 40_000, analysis: result('fail') },
    action: {
      kind: 'roll-back',
      reason: 'analysis failed 2 time(s), more than failureLimit 1: errors: error rate 0.5 (20 of 40) is above maxErrorRate 0.05',
      analysis: result('fail'),
    },
  },
  {
    name: 'an inconclusive result within inconclusiveLimit is recorded',
    rollout: holding(T0, { inconclusive: 1 }),
    observed: { now: T0 + 40_000, analysis: result('inconclusive') },
    action: { kind: 'record-analysis', analysis: result('inconclusive') },
  },
  {
    name: 'too many inconclusive results in a row pause for a person',
    rollout: holding(T0, { inconclusive: 2 }),
    observed: { now: T0 + 60_000, analysis: result('inconclusive') },
    action: {
      kind: 'pause',
      reason: '3 inconclusive analyses in a row, more than inconclusiveLimit 2: errors: 3 request(s) to green, fewer than minRequests 10',
      analysis: result('inconclusive'),
    },
  },
  {
    name: 'an inconclusive result when the hold time is up keeps holding',
    rollout: holding(),
    observed: { now: T0 + 60_000, analysis: result('inconclusive') },
    action: { kind: 'record-analysis', analysis: result('inconclusive') },
  },
  {
    name: 'without metrics a hold passes when its time is up',
    rollout: holding(T0, {}, noMetrics),
    observed: { now: T0 + 60_000 },
    action: { kind: 'advance' },
  },
  {
    name: 'without metrics nothing happens before',
    rollout: holding(T0, {}, noMetrics),
    observed: { now: T0 + 59_999 },
    action: { kind: 'nothing', until: T0 + 60_000 },
  },
  {
    name: 'a paused rollout waits for a person',
    rollout: holding(T0, { phase: 'paused', pausedFrom: 'holding', holdRemainingMs: 30_000 }),
    observed: { now: T0 + 600_000, stepRevisionApplied: true },
    action: { kind: 'nothing' },
  },
  {
    name: 'a rollout at an approval step waits for a person',
    rollout: rollout({ step: 1, phase: 'awaiting-approval' }),
    observed: { now: T0 + 600_000 },
    action: { kind: 'nothing' },
  },
  {
    name: 'someone else changing the service aborts an active rollout',
    rollout: holding(),
    observed: { now: T0 + 20_000, interference: 'the weights were changed outside the rollout (to blue 100, green 0)' },
    action: { kind: 'abort', reason: 'the weights were changed outside the rollout (to blue 100, green 0)' },
  },
  {
    name: 'also a paused one',
    rollout: holding(T0, { phase: 'paused', pausedFrom: 'holding' }),
    observed: { now: T0, interference: 'service "predict" was deleted' },
    action: { kind: 'abort', reason: 'service "predict" was deleted' },
  },
  {
    name: 'a shadow step keeps every user on stable and shadows the candidate with the rollout comparison',
    rollout: rollout({}, shadowRolloutBody()),
    observed: { now: T0 },
    action: { kind: 'set-weights', step: 0, weights: { blue: 100, green: 0 }, shadow: STEP_SHADOW },
  },
  {
    name: 'a shadow step keeps what a disagreement keeps as the rollout says',
    rollout: rollout({}, shadowRolloutBody({ shadowKeep: 'hashes' })),
    observed: { now: T0 },
    action: { kind: 'set-weights', step: 0, weights: { blue: 100, green: 0 }, shadow: { ...STEP_SHADOW, keep: 'hashes' } },
  },
  {
    name: 'holding a shadow step with a shadow metric: analyze',
    rollout: holding(T0, {}, shadowRolloutBody()),
    observed: { now: T0 + 20_000 },
    action: { kind: 'analyze', from: T0, to: T0 + 20_000 },
  },
  {
    name: 'holding a shadow step with only fleet metrics (which it cannot measure): just hold',
    rollout: holding(T0, {}, shadowRolloutBody({ analysis: rolloutBody().analysis })),
    observed: { now: T0 + 20_000 },
    action: { kind: 'nothing', until: T0 + 60_000 },
  },
  {
    name: '… and pass the hold on time alone',
    rollout: holding(T0, {}, shadowRolloutBody({ analysis: rolloutBody().analysis })),
    observed: { now: T0 + 60_000 },
    action: { kind: 'advance' },
  },
  {
    name: 'holding a weight step with only shadow metrics: pass the hold on time alone',
    rollout: holding(T0, { step: 2 }, shadowRolloutBody({ analysis: { ...rolloutBody().analysis, metrics: [{ name: 'agreement', source: 'shadow', minAgreement: 0.9 }] } })),
    observed: { now: T0 + 60_000 },
    action: { kind: 'advance' },
  },
  ...(['succeeded', 'rolled-back', 'aborted'] as const).map(
    (phase): Case => ({
      name: `a ${phase} rollout does nothing more`,
      rollout: rollout({ phase }),
      observed: { now: T0, stepRevisionApplied: true, interference: 'service "predict" was deleted' },
      action: { kind: 'nothing' },
    }),
  ),
];

describe('plan', () => {
  it.each(cases)('$name', ({ rollout: r, observed, action }) => {
    expect(plan(r, { stepRevisionApplied: false, ...observed })).toEqual(action);
  });

  it('is pure: the rollout is left as it was', () => {
    const r = Object.freeze(holding());
    const copy = structuredClone(r);
    plan(r, { now: T0 + 60_000, stepRevisionApplied: true, analysis: result('fail') });
    expect(r).toEqual(copy);
  });
});
