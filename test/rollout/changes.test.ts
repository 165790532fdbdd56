// The rollout change kinds as pure state changes: other changes carry the rollouts along, the
// timeline is capped, a finished rollout takes no more decisions, a stored rollout stays valid
// whatever happens to its service (so the state always reopens), and a person's change never
// ends an active rollout silently: refused without the override, ended in the same revision with it.

import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/errors.js';
import { TIMELINE_CAP } from '../../src/model/rollout.js';
import type { DesiredState, RolloutDecision } from '../../src/model/types.js';
import { validateState } from '../../src/model/validate.js';
import { interferenceOf } from '../../src/rollout/interference.js';
import { plan, type AnalysisResult } from '../../src/rollout/plan.js';
import { decide, type Decision } from '../../src/rollout/transitions.js';
import { applyChange, deepFreeze, type Change } from '../../src/state/changes.js';
import { INITIAL_STATE } from '../admin/harness.js';
import { holding, iso, rolloutBody, serviceBody, shadowRolloutBody, STEP_SHADOW, T0 } from './fixtures.js';

function apply(state: DesiredState, ...changes: Change[]): DesiredState {
  return changes.reduce((s, c) => applyChange(s, c), state);
}

function withRollout(): DesiredState {
  return apply(
    deepFreeze(structuredClone(INITIAL_STATE)),
    { kind: 'putService', name: 'predict', body: serviceBody() },
    { kind: 'startRollout', name: 'predict', body: rolloutBody(), at: iso(T0), actor: 'alice' },
  );
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof SluiceError) return error.code;
    throw error;
  }
  return undefined;
}

describe('rollout changes', () => {
  it('every other change keeps the rollouts', () => {
    const state = withRollout();
    const after = apply(
      state,
      { kind: 'putListener', name: 'edge', body: { port: 8081 } },
      // A replacement that leaves weights, stable and the rollout's versions alone does not touch the rollout.
      { kind: 'putService', name: 'predict', body: { ...serviceBody(), timeout: '5s' } },
      { kind: 'putService', name: 'rank', body: { ...serviceBody(), match: { prefix: '/rank' } } },
      { kind: 'setWeights', name: 'rank', weights: { blue: 90, green: 10 } },
    );
    expect(after.revision).toBe(state.revision + 4);
    expect(after.rollouts).toBe(state.rollouts);
  });

  it('a state without rollouts gets no rollouts key', () => {
    const after = apply(deepFreeze(structuredClone(INITIAL_STATE)), { kind: 'putService', name: 'predict', body: serviceBody() });
    expect(Object.keys(after)).toEqual(['revision', 'listeners', 'services']);
  });

  it('caps the timeline, keeping the newest decisions', () => {
    let state = withRollout();
    const decision = (i: number): RolloutDecision => ({ at: iso(T0 + i), event: 'analysis', step: 0, actor: 'rollout', outcome: 'pass' });
    for (let i = 0; i < TIMELINE_CAP + 5; i++) {
      const r = holding();
      const { timeline, ...rollout } = r;
      state = apply(state, { kind: 'rolloutUpdate', name: 'predict', rollout, decisions: [decision(i)] });
    }
    const timeline = state.rollouts!['predict']!.timeline;
    expect(timeline).toHaveLength(TIMELINE_CAP);
    expect(timeline.at(-1)?.at).toBe(iso(T0 + TIMELINE_CAP + 4));
  });

  it('a finished rollout takes no more decisions', () => {
    const state = apply(withRollout(), { kind: 'steerRollout', name: 'predict', command: 'abort', at: iso(T0), actor: 'bob' });
    const { timeline, ...rollout } = holding();
    expect(codeOf(() => apply(state, { kind: 'rolloutUpdate', name: 'predict', rollout, decisions: [] }))).toBe('SLUICE_ROLLOUT_STATE');
  });

  it('a failed notification is noted in any phase, an ended rollout too, changing nothing else; never on a newer rollout', () => {
    const ended = apply(withRollout(), { kind: 'steerRollout', name: 'predict', command: 'abort', at: iso(T0), actor: 'bob' });
    const decision = { at: iso(T0 + 1), event: 'notification-failed' as const, step: 0, actor: 'rollout', reason: 'hooks.example: HTTP 500' };
    const noted = apply(ended, { kind: 'noteRollout', name: 'predict', startedAt: iso(T0), decision });
    expect(noted.revision).toBe(ended.revision + 1);
    const { timeline, ...fields } = noted.rollouts!['predict']!;
    expect(timeline.at(-1)).toEqual(decision);
    expect(timeline.slice(0, -1)).toEqual(ended.rollouts!['predict']!.timeline);
    const { timeline: _, ...before } = ended.rollouts!['predict']!;
    expect(fields).toEqual(before);
    expect(noted.services).toBe(ended.services);
    expect(applyChange(noted, { kind: 'noteRollout', name: 'predict', startedAt: iso(T0 - 1), decision })).toBe(noted);
  });

  it('weights a decision sets must fit the service', () => {
    const { timeline, ...rollout } = holding();
    const change: Change = { kind: 'rolloutUpdate', name: 'predict', rollout, decisions: [], weights: { blue: 50, red: 50 } };
    expect(codeOf(() => apply(withRollout(), change))).toBe('SLUICE_UNKNOWN_VERSION');
  });

  it('a stored rollout stays valid when its service changes or goes away', () => {
    const state = apply(
      withRollout(),
      {
        kind: 'putService',
        name: 'predict',
        body: { ...serviceBody(), versions: serviceBody().versions.slice(0, 1), weights: { blue: 100 } },
        override: 'rollout',
      },
      { kind: 'deleteService', name: 'predict' },
    );
    expect(() => validateState(state)).not.toThrow();
    expect(state.rollouts!['predict']!.phase).toBe('aborted');
  });

  it('validateState refuses a stored rollout that does not hold together', () => {
    const state = withRollout();
    const bad = (patch: object): DesiredState => ({ ...state, rollouts: { predict: { ...state.rollouts!['predict']!, ...patch } } });
    expect(codeOf(() => validateState(bad({ step: 4 })))).toBe('SLUICE_INVALID_BODY');
    expect(codeOf(() => validateState(bad({ service: 'rank' })))).toBe('SLUICE_INVALID_BODY');
    expect(codeOf(() => validateState(bad({ phase: 'done' })))).toBe('SLUICE_INVALID_BODY');
    expect(codeOf(() => validateState(bad({ candidate: 'blue' })))).toBe('SLUICE_INVALID_BODY');
  });
});

describe('a person\'s change during an active rollout', () => {
  const bob = { at: iso(T0 + 1000), actor: 'bob' };
  const weights: Change = { kind: 'setWeights', name: 'predict', weights: { blue: 90, green: 10 } };
  const promote: Change = { kind: 'promote', name: 'predict', version: 'green' };
  const replace: Change = { kind: 'putService', name: 'predict', body: { ...serviceBody(), weights: { blue: 50, green: 50 } } };
  const removeCandidate: Change = {
    kind: 'putService',
    name: 'predict',
    body: { ...serviceBody(), versions: serviceBody().versions.slice(0, 1), weights: { blue: 100 } },
  };

  it.each([
    ['set weights', weights],
    ['promote', promote],
    ['replace the weights', replace],
    ['remove the candidate', removeCandidate],
  ])('is refused (%s) with SLUICE_ROLLOUT_IN_PROGRESS, saying how to proceed', (_what, change) => {
    const state = withRollout();
    let refusal: unknown;
    try {
      applyChange(state, change, bob);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toMatchObject({ code: 'SLUICE_ROLLOUT_IN_PROGRESS', status: 409 });
    expect((refusal as Error).message).toMatch(/active rollout of "green".*rollout\/abort.*rollout\/pause.*\?override=rollout/);
  });

  it('also while the rollout is paused', () => {
    const paused = apply(withRollout(), { kind: 'steerRollout', name: 'predict', command: 'pause', at: iso(T0), actor: 'alice' });
    expect(codeOf(() => applyChange(paused, weights, bob))).toBe('SLUICE_ROLLOUT_IN_PROGRESS');
  });

  it.each([
    ['set weights', weights, { blue: 90, green: 10 }, 'blue'],
    ['promote', promote, { blue: 0, green: 100 }, 'green'],
  ])('with override=rollout (%s) makes the change and aborts the rollout in the same revision', (_what, change, expected, stable) => {
    const state = withRollout();
    const after = applyChange(state, { ...change, override: 'rollout' } as Change, bob);
    expect(after.revision).toBe(state.revision + 1);
    expect(after.services['predict']).toMatchObject({ weights: expected, stable });
    const rollout = after.rollouts!['predict']!;
    expect(rollout).toMatchObject({ phase: 'aborted', finishedAt: bob.at });
    expect(rollout.reason).toMatch(/by bob with override=rollout$/);
    expect(rollout.timeline.at(-1)).toMatchObject({ event: 'aborted', actor: 'bob', at: bob.at });
    expect(() => validateState(after)).not.toThrow();
  });

  it('rollback is never refused: it aborts the rollout with all traffic on stable, in one revision', () => {
    const state = withRollout();
    const after = applyChange(state, { kind: 'rollback', name: 'predict' }, bob);
    expect(after.revision).toBe(state.revision + 1);
    expect(after.services['predict']!.weights).toEqual({ blue: 100, green: 0 });
    expect(after.rollouts!['predict']).toMatchObject({ phase: 'aborted', reason: 'rolled back by bob' });
  });

  it('delete is refused without force (SLUICE_DELETE_UNCONFIRMED) and aborts the rollout with it', () => {
    const state = withRollout();
    let refusal: unknown;
    try {
      applyChange(state, { kind: 'deleteService', name: 'predict' }, bob);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toMatchObject({ code: 'SLUICE_DELETE_UNCONFIRMED', status: 409 });
    expect((refusal as Error).message).toMatch(/rollout of "green".*\?force=true/);
    const after = applyChange(state, { kind: 'deleteService', name: 'predict', force: true }, bob);
    expect(after.services['predict']).toBeUndefined();
    expect(after.rollouts!['predict']).toMatchObject({ phase: 'aborted', reason: 'service deleted by bob with force=true' });
  });

  it('a change that changes nothing is not refused and leaves the rollout running', () => {
    const state = withRollout();
    const same = state.services['predict']!.weights;
    expect(applyChange(state, { kind: 'setWeights', name: 'predict', weights: same }, bob)).toBe(state);
    expect(applyChange(state, { kind: 'putService', name: 'predict', body: serviceBody(), override: 'rollout' }, bob)).toBe(state);
  });

  it('a finished rollout guards nothing', () => {
    const ended = apply(withRollout(), { kind: 'steerRollout', name: 'predict', command: 'abort', at: iso(T0), actor: 'alice' });
    const after = applyChange(ended, weights, bob);
    expect(after.rollouts).toBe(ended.rollouts);
    expect(applyChange(after, { kind: 'deleteService', name: 'predict' }, bob).services['predict']).toBeUndefined();
  });
});

describe('a rollout with a shadow step, as the store applies its decisions', () => {
  const bob = { at: iso(T0 + 1000), actor: 'bob' };
  const pass: AnalysisResult = { outcome: 'pass', measurements: [], from: T0, to: T0 + 60_000 };
  const fail: AnalysisResult = { outcome: 'fail', measurements: [], from: T0, to: T0 + 20_000 };

  /** The controller's next move as one store change: planned with every proxy up to date, or `action` when given. */
  function move(state: DesiredState, now: number, action?: Decision): DesiredState {
    const rollout = state.rollouts!['predict']!;
    const planned = action ?? plan(rollout, { now, stepRevisionApplied: true });
    if (planned.kind === 'nothing' || planned.kind === 'analyze') throw new Error(`nothing to apply: ${planned.kind}`);
    return applyChange(state, { kind: 'rolloutUpdate', ...decide(rollout, planned, { now, actor: 'rollout', revision: state.revision + 1 }) });
  }

  /** Holding the shadow step: the service shadows green at 50% with all traffic on blue. */
  function shadowing(): DesiredState {
    const started = apply(
      deepFreeze(structuredClone(INITIAL_STATE)),
      { kind: 'putService', name: 'predict', body: serviceBody() },
      { kind: 'startRollout', name: 'predict', body: shadowRolloutBody(), at: iso(T0), actor: 'alice' },
    );
    return move(move(started, T0), T0);
  }

  it('sets the shadow with the step weights, in one revision, and the state stays valid', () => {
    const state = shadowing();
    expect(state.services['predict']).toMatchObject({ weights: { blue: 100, green: 0 }, shadow: STEP_SHADOW });
    expect(state.rollouts!['predict']).toMatchObject({ phase: 'holding', stepShadow: STEP_SHADOW });
    expect(() => validateState(state)).not.toThrow();
  });

  it('removes it in the revision that leaves the step (here for an approval gate), and keeps it until then', () => {
    const passed = move(move(shadowing(), T0 + 60_000, { kind: 'advance', analysis: pass }), T0 + 60_000);
    expect(passed.rollouts!['predict']!.phase).toBe('awaiting-approval');
    expect(passed.services['predict']).not.toHaveProperty('shadow');
    const advancedOnly = move(shadowing(), T0 + 60_000, { kind: 'advance', analysis: pass });
    expect(advancedOnly.services['predict']!.shadow).toEqual(STEP_SHADOW);
  });

  it('removes it with the weights of a rollback, in the same revision', () => {
    const state = shadowing();
    const after = move(state, T0 + 20_000, { kind: 'roll-back', reason: 'disagrees', analysis: fail });
    expect(after.revision).toBe(state.revision + 1);
    expect(after.services['predict']).not.toHaveProperty('shadow');
    expect(after.services['predict']!.weights).toEqual({ blue: 100, green: 0 });
  });

  it.each([
    ['rollback', { kind: 'rollback', name: 'predict' }, 'blue'],
    ['promote with override=rollout', { kind: 'promote', name: 'predict', version: 'green', override: 'rollout' }, 'green'],
    ['abort', { kind: 'steerRollout', name: 'predict', command: 'abort', at: bob.at, actor: 'bob' }, 'blue'],
  ] as const)("a person's %s removes it in the same revision, and the state stays valid", (_what, change, stable) => {
    const state = shadowing();
    const after = applyChange(state, change, bob);
    expect(after.revision).toBe(state.revision + 1);
    expect(after.rollouts!['predict']!.phase).toBe('aborted');
    expect(after.services['predict']).not.toHaveProperty('shadow');
    expect(after.services['predict']!.stable).toBe(stable);
    expect(() => validateState(after)).not.toThrow();
  });

  it("a person's own shadow put in its place since is theirs: the rollout leaves it", () => {
    const theirs = { ...STEP_SHADOW, percent: 10 };
    const state = applyChange(shadowing(), { kind: 'putService', name: 'predict', body: { ...serviceBody(), shadow: theirs } }, bob);
    expect(state.rollouts!['predict']!.phase).toBe('holding');
    const after = applyChange(state, { kind: 'rollback', name: 'predict' }, bob);
    expect(after.services['predict']!.shadow).toEqual(theirs);
  });

  it('a mirror added while shadow steps are to come takes the service from the rollout', () => {
    const state = applyChange(shadowing(), { kind: 'putService', name: 'predict', body: { ...serviceBody(), mirror: { to: 'green', percent: 5 } } }, bob);
    const rollout = state.rollouts!['predict']!;
    expect(rollout.phase).toBe('holding');
    expect(interferenceOf(rollout, state.services['predict'])).toMatch(/a mirror to "green" was added outside the rollout/);
    expect(interferenceOf({ ...rollout, step: 2 }, state.services['predict'])).toBeUndefined();
  });
});
