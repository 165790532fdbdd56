// notificationsFor() as a table: a rollout, one real transition (the controller's `decide` or a
// person's `steer`, appended as the store appends it) and the messages it must make — the phase
// changes with their sentence and fields, nothing for the steps in between nor for a failed
// notification; then how new decisions are found across coalesced commits and a capped timeline.

import { describe, expect, it } from 'vitest';
import { TIMELINE_CAP, type RolloutUpdate } from '../../src/model/rollout.js';
import type { Rollout, RolloutDecision } from '../../src/model/types.js';
import { newDecisions } from '../../src/model/rollout.js';
import { notificationsFor, type RolloutNotification } from '../../src/rollout/notifications.js';
import type { AnalysisResult } from '../../src/rollout/plan.js';
import { decide, steer, type Decision } from '../../src/rollout/transitions.js';
import { holding, iso, predictService, rollout, rolloutBody, shadowRolloutBody, STEP_SHADOW, T0 } from './fixtures.js';

/** The rollout after `update`, its decisions appended as the store appends them. */
function applied(before: Rollout, update: RolloutUpdate): Rollout {
  return { ...update.rollout, timeline: [...before.timeline, ...update.decisions].slice(-TIMELINE_CAP) };
}

const NOW = T0 + 90_000;
const ctx = { now: NOW, actor: 'rollout', revision: 7 };

function byController(before: Rollout, action: Decision): Rollout {
  return applied(before, decide(before, action, ctx));
}

function byPerson(before: Rollout, command: 'pause' | 'resume' | 'approve' | 'abort', reason?: string): Rollout {
  return applied(
    before,
    steer(before, command, { ...ctx, actor: 'bob', service: predictService(), ...(reason === undefined ? {} : { reason }) }),
  );
}

const failing: AnalysisResult = {
  outcome: 'fail',
  measurements: [{ metric: 'errors', outcome: 'fail', value: 0.3, requests: 120, errors: 36, reason: 'error rate 0.3 (36 of 120) is above maxErrorRate 0.05' }],
  from: T0,
  to: NOW,
};
const passing: AnalysisResult = { outcome: 'pass', measurements: [{ metric: 'errors', outcome: 'pass', value: 0, requests: 40, errors: 0 }], from: T0, to: NOW };

const relativeBody = rolloutBody({
  analysis: { interval: '20s', minRequests: 10, failureLimit: 0, inconclusiveLimit: 2, metrics: [{ name: 'errors-vs-stable', source: 'fleet', maxErrorRateIncrease: 0.01 }] },
});
const relativeHolding = holding(T0, {}, relativeBody);
const failingAgainstStable: AnalysisResult = {
  outcome: 'fail',
  measurements: [
    {
      metric: 'errors-vs-stable',
      outcome: 'fail',
      value: 0.3,
      requests: 120,
      errors: 36,
      comparison: { stableRequests: 480, stableErrors: 0, maxIncrease: 0.01, confidence: 0.95, lower: 0.21, upper: 0.39 },
      reason: 'error rate 30% (36 of 120) vs stable 0% (0 of 480), +30 points; the increase is at least +21 > +1 at 95%: above maxErrorRateIncrease',
    },
  ],
  from: T0,
  to: NOW,
};

const started = rollout();
const waiting = byController(started, { kind: 'set-weights', step: 0, weights: { blue: 80, green: 20 } });
const atGate = rollout({ step: 1, phase: 'progressing' });
const paused = byPerson(holding(), 'pause', 'looking at a dashboard');
const afterLastStep = rollout({ step: 3, phase: 'progressing', stepWeights: { blue: 50, green: 50 } });
const failedNote: RolloutDecision = { at: iso(NOW), event: 'notification-failed', step: 0, actor: 'rollout', reason: 'hooks.example: HTTP 500 after 4 attempts' };

interface Case {
  name: string;
  before: Rollout | undefined;
  after: Rollout;
  messages: Partial<RolloutNotification>[];
}

const cases: Case[] = [
  {
    name: 'a new rollout: started',
    before: undefined,
    after: started,
    messages: [
      {
        kind: 'started',
        phase: 'progressing',
        text: 'Rollout of predict started by alice: green replaces blue in 3 step(s).',
        service: 'predict',
        candidate: 'green',
        stable: 'blue',
        step: 0,
        steps: 3,
        revision: 7,
        at: iso(T0),
      },
    ],
  },
  {
    name: 'weights set: step reached, with the weights and the revision that carried them',
    before: started,
    after: waiting,
    messages: [
      {
        kind: 'step-reached',
        phase: 'waiting-for-proxies',
        text: 'Rollout of predict reached step 1 of 3: blue 80%, green 20%.',
        weights: { blue: 80, green: 20 },
        step: 0,
        revision: 7,
        at: iso(NOW),
      },
    ],
  },
  {
    name: 'a shadow step reached: its weights, and the share copied to the candidate',
    before: rollout({}, shadowRolloutBody()),
    after: byController(rollout({}, shadowRolloutBody()), { kind: 'set-weights', step: 0, weights: { blue: 100, green: 0 }, shadow: STEP_SHADOW }),
    messages: [
      {
        kind: 'step-reached',
        text: 'Rollout of predict reached step 1 of 3: blue 100%, green 0%, 50% of requests copied to green to compare its answers.',
        weights: { blue: 100, green: 0 },
      },
    ],
  },
  { name: 'the hold starts: nothing', before: waiting, after: byController(waiting, { kind: 'start-hold', step: 0, until: NOW + 60_000 }), messages: [] },
  { name: 'an analysis is recorded: nothing', before: holding(), after: byController(holding(), { kind: 'record-analysis', analysis: passing }), messages: [] },
  { name: 'the hold passes: nothing', before: holding(), after: byController(holding(), { kind: 'advance', analysis: passing }), messages: [] },
  {
    name: 'an approval gate: awaiting approval, saying how to approve',
    before: atGate,
    after: byController(atGate, { kind: 'await-approval', step: 1 }),
    messages: [
      {
        kind: 'awaiting-approval',
        phase: 'awaiting-approval',
        step: 1,
        text: 'Rollout of predict awaits approval at step 2 of 3 (POST /v1/services/predict/rollout/approve to go on).',
      },
    ],
  },
  { name: 'a person approves: nothing (the next step reached follows)', before: rollout({ step: 1, phase: 'awaiting-approval' }), after: byPerson(rollout({ step: 1, phase: 'awaiting-approval' }), 'approve'), messages: [] },
  {
    name: 'a person pauses: paused with the reason',
    before: holding(),
    after: paused,
    messages: [{ kind: 'paused', phase: 'paused', reason: 'looking at a dashboard', text: 'Rollout of predict paused at step 1 of 3: looking at a dashboard.' }],
  },
  { name: 'a person resumes: nothing', before: paused, after: byPerson(paused, 'resume'), messages: [] },
  {
    name: 'proxies too slow: paused with the proxies named; <, > and & escaped in text only',
    before: waiting,
    after: byController(waiting, { kind: 'pause', reason: 'revision 7 of step 0 was not applied within proxyTimeout 5m by 1 proxy(ies): "edge-3" (last NACK: size 25 > max 20 & <more>)' }),
    messages: [
      {
        kind: 'paused',
        reason: 'revision 7 of step 0 was not applied within proxyTimeout 5m by 1 proxy(ies): "edge-3" (last NACK: size 25 > max 20 & <more>)',
        text: 'Rollout of predict paused at step 1 of 3: revision 7 of step 0 was not applied within proxyTimeout 5m by 1 proxy(ies): "edge-3" (last NACK: size 25 &gt; max 20 &amp; &lt;more&gt;).',
      },
    ],
  },
  {
    name: 'analysis fails: rolled back, with the failing metric, its value and its threshold',
    before: holding(),
    after: byController(holding(), { kind: 'roll-back', reason: 'analysis failed 1 time(s), more than failureLimit 0: errors: error rate 0.3 (36 of 120) is above maxErrorRate 0.05', analysis: failing }),
    messages: [
      {
        kind: 'rolled-back',
        phase: 'rolled-back',
        weights: { blue: 100 },
        text: 'Rollout of predict rolled back at step 1 of 3, all traffic to blue: error rate 0.3 (36 of 120) is above maxErrorRate 0.05.',
        failedMetrics: [{ metric: 'errors', value: 0.3, threshold: { maxErrorRate: 0.05 }, reason: 'error rate 0.3 (36 of 120) is above maxErrorRate 0.05' }],
        revision: 7,
      },
    ],
  },
  {
    name: 'a relative metric fails: rolled back, its threshold the allowed increase and the confidence',
    before: relativeHolding,
    after: byController(relativeHolding, { kind: 'roll-back', reason: 'analysis failed 1 time(s), more than failureLimit 0', analysis: failingAgainstStable }),
    messages: [
      {
        kind: 'rolled-back',
        failedMetrics: [
          {
            metric: 'errors-vs-stable',
            value: 0.3,
            threshold: { maxErrorRateIncrease: 0.01, confidence: 0.95 },
            reason: 'error rate 30% (36 of 120) vs stable 0% (0 of 480), +30 points; the increase is at least +21 > +1 at 95%: above maxErrorRateIncrease',
          },
        ],
      },
    ],
  },
  {
    name: 'past the last step: succeeded',
    before: afterLastStep,
    after: byController(afterLastStep, { kind: 'promote' }),
    messages: [{ kind: 'succeeded', phase: 'succeeded', step: 3, weights: { green: 100 }, text: 'Rollout of predict succeeded: green is stable with 100% of traffic.' }],
  },
  {
    name: 'a person aborts: aborted, all traffic to stable',
    before: holding(),
    after: byPerson(holding(), 'abort', 'alarm from X'),
    messages: [{ kind: 'aborted', phase: 'aborted', weights: { blue: 100 }, reason: 'alarm from X', text: 'Rollout of predict aborted at step 1 of 3, all traffic to blue: alarm from X.' }],
  },
  {
    name: 'someone else changed the weights: aborted, no traffic moved by the rollout',
    before: holding(),
    after: byController(holding(), { kind: 'abort', reason: 'the weights were changed outside the rollout (to blue 50, green 50)' }),
    messages: [{ kind: 'aborted', text: 'Rollout of predict aborted at step 1 of 3: the weights were changed outside the rollout (to blue 50, green 50).' }],
  },
  { name: 'a failed notification recorded: nothing (no notification about a notification)', before: waiting, after: { ...waiting, timeline: [...waiting.timeline, failedNote] }, messages: [] },
  { name: 'nothing new: nothing', before: waiting, after: waiting, messages: [] },
];

describe('notificationsFor', () => {
  it.each(cases)('$name', ({ before, after, messages }) => {
    const made = notificationsFor(before, after, 7);
    expect(made).toHaveLength(messages.length);
    made.forEach((message, i) => expect(message).toMatchObject(messages[i]!));
    for (const message of made) expect(message.text).not.toMatch(/\n/);
  });

  it('gives every phase change of commits seen at once (a catch-up), in order', () => {
    const gate = byController(waiting, { kind: 'start-hold', step: 0, until: NOW });
    const passed = byController(gate, { kind: 'advance' });
    const awaiting = byController(passed, { kind: 'await-approval', step: 1 });
    expect(notificationsFor(started, awaiting, 9).map((m) => m.kind)).toEqual(['step-reached', 'awaiting-approval']);
  });

  it('tells a new rollout from the ended one it replaced', () => {
    const ended = byPerson(holding(), 'abort');
    const next = { ...rollout(), startedAt: iso(NOW), timeline: [{ at: iso(NOW), event: 'started' as const, step: 0, actor: 'carol' }] };
    expect(notificationsFor(ended, next, 9).map((m) => `${m.kind} by ${m.text.split(' by ')[1]?.split(':')[0]}`)).toEqual(['started by carol']);
  });
});

describe('newDecisions', () => {
  it('finds the appended decisions once the timeline is capped at the front', () => {
    const decisions = (from: number, count: number): RolloutDecision[] =>
      Array.from({ length: count }, (_, i) => ({ at: iso(T0 + (from + i) * 1000), event: 'analysis' as const, step: 0, actor: 'rollout' }));
    const full = { ...holding(), timeline: decisions(0, TIMELINE_CAP) };
    const later = { ...full, timeline: [...full.timeline, ...decisions(TIMELINE_CAP, 3)].slice(-TIMELINE_CAP) };
    expect(later.timeline).toHaveLength(TIMELINE_CAP);
    expect(newDecisions(full, later)).toEqual(decisions(TIMELINE_CAP, 3));
  });
});
