// The rollout's moves: what each planned action and each person's command turns a rollout into,
// with a fake clock (epoch ms passed in) — deadlines, windows, counters, weights and refusals.

import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/errors.js';
import type { AnalysisOutcome } from '../../src/model/types.js';
import type { AnalysisResult } from '../../src/rollout/plan.js';
import { decide, steer } from '../../src/rollout/transitions.js';
import { holding, iso, predictService, rollout, shadowRolloutBody, STEP_SHADOW, T0 } from './fixtures.js';

const ctx = (now: number, actor = 'rollout') => ({ now, actor, revision: 7 });

function result(outcome: AnalysisOutcome, from: number, to: number): AnalysisResult {
  return { outcome, measurements: [{ metric: 'errors', outcome, requests: 40, errors: 0, value: 0 }], from, to };
}

describe('decide', () => {
  it('set-weights: commits the weights, remembers their revision and waits for the proxies', () => {
    const update = decide(holding(), { kind: 'set-weights', step: 0, weights: { blue: 80, green: 20 } }, ctx(T0));
    expect(update.weights).toEqual({ blue: 80, green: 20 });
    expect(update.rollout).toMatchObject({ phase: 'waiting-for-proxies', stepWeights: { blue: 80, green: 20 }, stepRevision: 7 });
    expect(update.rollout).not.toHaveProperty('holdUntil');
    expect(update.rollout).not.toHaveProperty('timeline');
    expect(update.decisions).toEqual([{ at: iso(T0), event: 'weights-set', step: 0, actor: 'rollout', revision: 7, weights: { blue: 80, green: 20 } }]);
  });

  it('start-hold: the first analysis is one interval in, or at the end of a shorter hold', () => {
    const r = rollout({ phase: 'waiting-for-proxies' });
    expect(decide(r, { kind: 'start-hold', step: 0, until: T0 + 60_000 }, ctx(T0)).rollout).toMatchObject({
      phase: 'holding',
      holdStartedAt: iso(T0),
      holdUntil: iso(T0 + 60_000),
      windowStart: iso(T0),
      nextAnalysisAt: iso(T0 + 20_000),
    });
    expect(decide(r, { kind: 'start-hold', step: 0, until: T0 + 5_000 }, ctx(T0)).rollout.nextAnalysisAt).toBe(iso(T0 + 5_000));
  });

  it('record-analysis: an inconclusive result keeps the window open; a conclusive one starts the next', () => {
    const r = holding(T0, { inconclusive: 1 });
    const open = decide(r, { kind: 'record-analysis', analysis: result('inconclusive', T0, T0 + 20_000) }, ctx(T0 + 20_000));
    expect(open.rollout).toMatchObject({ windowStart: iso(T0), inconclusive: 2, failures: 0, nextAnalysisAt: iso(T0 + 40_000) });
    expect(open.decisions[0]).toMatchObject({ event: 'analysis', outcome: 'inconclusive', inconclusive: 2, window: { from: iso(T0), to: iso(T0 + 20_000) } });

    const closed = decide(r, { kind: 'record-analysis', analysis: result('pass', T0, T0 + 20_000) }, ctx(T0 + 20_000));
    expect(closed.rollout).toMatchObject({ windowStart: iso(T0 + 20_000), inconclusive: 0 });
  });

  it('record-analysis after the hold time is up: the next analysis is one interval on', () => {
    const r = holding();
    const update = decide(r, { kind: 'record-analysis', analysis: result('inconclusive', T0, T0 + 61_000) }, ctx(T0 + 61_000));
    expect(update.rollout.nextAnalysisAt).toBe(iso(T0 + 81_000));
  });

  it('advance: the next step, with the passing analysis and the passed hold in the timeline', () => {
    const update = decide(holding(), { kind: 'advance', analysis: result('pass', T0 + 40_000, T0 + 60_000) }, ctx(T0 + 60_000));
    expect(update.rollout).toMatchObject({ phase: 'progressing', step: 1 });
    expect(update.rollout).not.toHaveProperty('nextAnalysisAt');
    expect(update.decisions.map((d) => d.event)).toEqual(['analysis', 'hold-passed']);
    expect(update.weights).toBeUndefined();
  });

  it('promote: all traffic to the candidate, which becomes stable', () => {
    const update = decide(rollout({ step: 3 }), { kind: 'promote' }, ctx(T0));
    expect(update).toMatchObject({ weights: { green: 100 }, stable: 'green', rollout: { phase: 'succeeded', finishedAt: iso(T0) } });
  });

  it('roll-back: all traffic to stable, the failure counted and the reason kept', () => {
    const update = decide(holding(), { kind: 'roll-back', reason: 'bad', analysis: result('fail', T0, T0 + 20_000) }, ctx(T0 + 20_000));
    expect(update.weights).toEqual({ blue: 100 });
    expect(update.stable).toBeUndefined();
    expect(update.rollout).toMatchObject({ phase: 'rolled-back', failures: 1, reason: 'bad', stepRevision: 7 });
    expect(update.decisions.map((d) => [d.event, d.revision])).toEqual([
      ['analysis', undefined],
      ['rolled-back', 7],
    ]);
  });

  it('pause: keeps what is left of the hold', () => {
    const update = decide(holding(), { kind: 'pause', reason: 'no data', analysis: result('inconclusive', T0, T0 + 45_000) }, ctx(T0 + 45_000));
    expect(update.rollout).toMatchObject({ phase: 'paused', pausedFrom: 'holding', holdRemainingMs: 15_000, reason: 'no data', inconclusive: 1 });
  });

  it('abort: the rollout ends without moving traffic', () => {
    const update = decide(holding(), { kind: 'abort', reason: 'service "predict" was deleted' }, ctx(T0));
    expect(update.weights).toBeUndefined();
    expect(update.rollout).toMatchObject({ phase: 'aborted', reason: 'service "predict" was deleted' });
  });
});

describe('steer', () => {
  const service = predictService();

  it('pause and resume: the hold keeps its remaining time, the analysis window starts afresh', () => {
    const paused = steer(holding(T0, { inconclusive: 1 }), 'pause', { ...ctx(T0 + 10_000, 'alice'), service });
    expect(paused.rollout).toMatchObject({ phase: 'paused', pausedFrom: 'holding', holdRemainingMs: 50_000, reason: 'paused by alice' });
    expect(paused.decisions).toEqual([{ at: iso(T0 + 10_000), event: 'paused', step: 0, actor: 'alice', reason: 'paused by alice' }]);

    const resumed = steer({ ...paused.rollout, timeline: [] }, 'resume', ctx(T0 + 500_000, 'bob'));
    expect(resumed.rollout).toMatchObject({
      phase: 'holding',
      holdUntil: iso(T0 + 550_000),
      windowStart: iso(T0 + 500_000),
      nextAnalysisAt: iso(T0 + 520_000),
      inconclusive: 0,
    });
    expect(resumed.rollout).not.toHaveProperty('pausedFrom');
    expect(resumed.rollout).not.toHaveProperty('reason');
  });

  it('pause records the reason given', () => {
    expect(steer(holding(), 'pause', { ...ctx(T0, 'alice'), reason: 'freeze' }).rollout.reason).toBe('freeze');
  });

  it('approve passes the approval step', () => {
    const update = steer(rollout({ step: 1, phase: 'awaiting-approval' }), 'approve', ctx(T0, 'alice'));
    expect(update.rollout).toMatchObject({ phase: 'progressing', step: 2 });
    expect(update.decisions[0]).toMatchObject({ event: 'approved', actor: 'alice' });
  });

  it('abort sends all traffic to the service stable version in the same update', () => {
    const update = steer(holding(), 'abort', { ...ctx(T0, 'pager'), reason: 'alarm from X', service });
    expect(update).toMatchObject({ weights: { blue: 100 }, rollout: { phase: 'aborted', reason: 'alarm from X', stepRevision: 7 } });
    expect(update.decisions[0]).toMatchObject({ event: 'aborted', actor: 'pager', revision: 7, weights: { blue: 100 } });
  });

  it.each([
    ['approve', holding(), 'only a rollout at an approval step can be approved'],
    ['resume', holding(), 'only a paused rollout can be resumed'],
    ['pause', holding(T0, { phase: 'paused' }), 'it is already paused'],
    ['abort', rollout({ phase: 'succeeded' }), 'it has ended'],
    ['pause', rollout({ phase: 'rolled-back' }), 'it has ended'],
  ] as const)('refuses %s when the phase does not allow it', (command, r, message) => {
    let error: unknown;
    try {
      steer(r, command, ctx(T0, 'alice'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe('SLUICE_ROLLOUT_STATE');
    expect((error as SluiceError).message).toContain(message);
  });
});

describe('shadow steps: the shadow is set at a shadow step and removed in the update that leaves it', () => {
  const service = predictService();
  /** Holding the shadow step, its shadow set on the service. */
  const shadowing = (fields = {}) => holding(T0, { stepWeights: { blue: 100, green: 0 }, stepShadow: STEP_SHADOW, ...fields }, shadowRolloutBody());
  const pass = result('pass', T0, T0 + 60_000);
  const fail = result('fail', T0, T0 + 20_000);

  it('set-weights of a shadow step sets its shadow and remembers it', () => {
    const update = decide(rollout({}, shadowRolloutBody()), { kind: 'set-weights', step: 0, weights: { blue: 100, green: 0 }, shadow: STEP_SHADOW }, ctx(T0));
    expect(update).toMatchObject({ weights: { blue: 100, green: 0 }, shadow: STEP_SHADOW, rollout: { stepShadow: STEP_SHADOW } });
  });

  it.each([
    ['a weight step', shadowing({ step: 2, phase: 'progressing' }), { kind: 'set-weights', step: 2, weights: { blue: 50, green: 50 } }, 'waiting-for-proxies'],
    ['an approval gate', shadowing({ step: 1, phase: 'progressing' }), { kind: 'await-approval', step: 1 }, 'awaiting-approval'],
    ['success', shadowing({ step: 3, phase: 'progressing' }), { kind: 'promote' }, 'succeeded'],
    ['a rollback', shadowing(), { kind: 'roll-back', reason: 'disagrees', analysis: fail }, 'rolled-back'],
    ['an abort (service taken over)', shadowing(), { kind: 'abort', reason: 'the weights were changed outside the rollout' }, 'aborted'],
  ] as const)('leaving it for %s removes the shadow (shadow: null) and forgets it', (_to, r, action, phase) => {
    const update = decide(r, action, ctx(T0 + 60_000));
    expect(update.shadow).toBeNull();
    expect(update.rollout.phase).toBe(phase);
    expect(update.rollout).not.toHaveProperty('stepShadow');
  });

  it.each([
    ['abort with the service (all traffic to stable)', { service }],
    ['abort of a deleted service', {}],
  ])("a person's %s removes it too", (_what, extra) => {
    const update = steer(shadowing(), 'abort', { ...ctx(T0, 'alice'), ...extra });
    expect(update.shadow).toBeNull();
    expect(update.rollout).not.toHaveProperty('stepShadow');
  });

  it('moves within the shadow step keep it: analyses, the hold passing to the next step, pause and resume', () => {
    const recorded = decide(shadowing(), { kind: 'record-analysis', analysis: result('inconclusive', T0, T0 + 20_000) }, ctx(T0 + 20_000));
    const advanced = decide(shadowing(), { kind: 'advance', analysis: pass }, ctx(T0 + 60_000));
    const paused = steer(shadowing(), 'pause', ctx(T0 + 10_000, 'alice'));
    const resumed = steer({ ...paused.rollout, timeline: [] }, 'resume', ctx(T0 + 20_000, 'alice'));
    for (const update of [recorded, advanced, paused, resumed]) {
      expect(update).not.toHaveProperty('shadow');
      expect(update.rollout.stepShadow).toEqual(STEP_SHADOW);
    }
  });

  it('a rollout that set no shadow asks for no removal', () => {
    const update = decide(holding(), { kind: 'roll-back', reason: 'bad', analysis: fail }, ctx(T0 + 20_000));
    expect(update).not.toHaveProperty('shadow');
  });
});
