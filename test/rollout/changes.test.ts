// The rollout change kinds as pure state changes: other changes carry the rollouts along, the
// timeline is capped, a finished rollout takes no more decisions, and a stored rollout stays
// valid whatever happens to its service (so the state always reopens).

import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../src/errors.js';
import { TIMELINE_CAP } from '../../src/model/rollout.js';
import type { DesiredState, RolloutDecision } from '../../src/model/types.js';
import { validateState } from '../../src/model/validate.js';
import { applyChange, deepFreeze, type Change } from '../../src/state/changes.js';
import { INITIAL_STATE } from '../admin/harness.js';
import { holding, iso, rolloutBody, serviceBody, T0 } from './fixtures.js';

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
      { kind: 'setWeights', name: 'predict', weights: { blue: 90, green: 10 } },
      { kind: 'putListener', name: 'edge', body: { port: 8081 } },
      { kind: 'rollback', name: 'predict' },
    );
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

  it('weights a decision sets must fit the service', () => {
    const { timeline, ...rollout } = holding();
    const change: Change = { kind: 'rolloutUpdate', name: 'predict', rollout, decisions: [], weights: { blue: 50, red: 50 } };
    expect(codeOf(() => apply(withRollout(), change))).toBe('SLUICE_UNKNOWN_VERSION');
  });

  it('a stored rollout stays valid when its service changes or goes away', () => {
    const state = apply(
      withRollout(),
      { kind: 'putService', name: 'predict', body: { ...serviceBody(), versions: serviceBody().versions.slice(0, 1), weights: { blue: 100 } } },
      { kind: 'deleteService', name: 'predict' },
    );
    expect(() => validateState(state)).not.toThrow();
    expect(state.rollouts!['predict']!.phase).toBe('progressing');
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
