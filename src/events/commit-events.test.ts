import { describe, expect, it } from 'vitest';
import type { DesiredState, Rollout, RolloutDecision } from '../model/types.js';
import type { AuditEntry } from '../state/state-adapter.js';
import { revisionEvent, rolloutEvents } from './commit-events.js';

const AT = '2025-01-01T00:00:00.000Z';

function rollout(timeline: RolloutDecision[], extra: Partial<Rollout> = {}): Rollout {
  return {
    service: 'predict',
    candidate: 'green',
    stable: 'blue',
    steps: [{ weight: 10, hold: '1m' }],
    analysis: { interval: '30s', minRequests: 50, failureLimit: 0, inconclusiveLimit: 3, metrics: [] },
    phase: 'progressing',
    step: 0,
    failures: 0,
    inconclusive: 0,
    startedAt: AT,
    timeline,
    ...extra,
  } as Rollout;
}

function state(revision: number, rollouts?: Record<string, Rollout>): DesiredState {
  return { revision, listeners: {}, services: {}, ...(rollouts ? { rollouts } : {}) };
}

const started: RolloutDecision = { at: AT, event: 'started', step: 0, actor: 'admin' };
const weightsSet: RolloutDecision = { at: '2025-01-01T00:00:01.000Z', event: 'weights-set', step: 0, actor: 'rollout', weights: { blue: 90, green: 10 } };
const analysis: RolloutDecision = {
  at: '2025-01-01T00:00:31.000Z',
  event: 'analysis',
  step: 0,
  actor: 'rollout',
  outcome: 'pass',
  measurements: [{ metric: 'errors', outcome: 'pass', value: 0.01, requests: 120 }],
};

describe('commit events', () => {
  it('turns an audit entry into a revision event naming the service, the listener or the restored revision', () => {
    const entry: AuditEntry = { revision: 4, actor: 'admin', at: AT, change: { kind: 'setWeights', name: 'predict', weights: { blue: 50, green: 50 } }, summary: 'set weights of predict: blue 50, green 50' };
    expect(revisionEvent(entry)).toEqual({ type: 'revision', at: AT, revision: 4, actor: 'admin', change: 'setWeights', summary: entry.summary, service: 'predict' });
    expect(revisionEvent({ ...entry, change: { kind: 'deleteListener', name: 'edge' }, summary: 'delete listener edge' })).toMatchObject({ listener: 'edge' });
    expect(revisionEvent({ ...entry, change: { kind: 'restoreRevision', revision: 2 }, summary: 'restore revision 2' })).toMatchObject({ restored: 2 });
  });

  it("carries the service's weights from the state its own commit made, while the service exists", () => {
    const entry: AuditEntry = { revision: 4, actor: 'admin', at: AT, change: { kind: 'promote', name: 'predict', version: 'green' }, summary: 'promote predict (stable green): blue 0, green 100' };
    const predict = { name: 'predict', weights: { blue: 0, green: 100 } } as unknown as DesiredState['services'][string];
    const made = { ...state(4), services: { predict } };
    expect(revisionEvent(entry, made)).toMatchObject({ service: 'predict', weights: { blue: 0, green: 100 } });
    // A later state (a batch caught up at once) does not hold this commit's weights; a deleted service has none.
    expect(revisionEvent(entry, { ...made, revision: 5 })).not.toHaveProperty('weights');
    expect(revisionEvent({ ...entry, change: { kind: 'deleteService', name: 'predict' } }, state(4))).not.toHaveProperty('weights');
  });

  it('tells each decision a commit added to a rollout, with its readable message', () => {
    const events = rolloutEvents(state(5, { predict: rollout([started]) }), state(6, { predict: rollout([started, weightsSet, analysis], { phase: 'holding' }) }));
    expect(events).toEqual([
      { ...weightsSet, type: 'rollout', revision: 6, service: 'predict', candidate: 'green', phase: 'holding', message: 'step 0 weights-set blue 90, green 10' },
      {
        ...analysis,
        type: 'rollout',
        revision: 6,
        service: 'predict',
        candidate: 'green',
        phase: 'holding',
        message: 'step 0 analysis pass (errors 0.01, 120 requests)',
      },
    ]);
  });

  it('tells every decision of a rollout that is new, even one replacing an ended rollout', () => {
    const ended = rollout([started, weightsSet], { phase: 'aborted' });
    const next = rollout([{ ...started, at: '2025-01-02T00:00:00.000Z' }], { startedAt: '2025-01-02T00:00:00.000Z' });
    expect(rolloutEvents(state(1), state(2, { predict: rollout([started]) })).map((e) => e['event'])).toEqual(['started']);
    expect(rolloutEvents(state(3, { predict: ended }), state(4, { predict: next })).map((e) => [e['event'], e['at']])).toEqual([['started', '2025-01-02T00:00:00.000Z']]);
  });

  it('finds the new decisions of a timeline that dropped its oldest at the cap', () => {
    const old = Array.from({ length: 3 }, (_, i): RolloutDecision => ({ at: `2025-01-01T00:0${i}:00.000Z`, event: 'analysis', step: 0, actor: 'rollout', outcome: 'inconclusive' }));
    const added: RolloutDecision = { ...analysis, at: '2025-01-01T00:09:00.000Z' };
    const events = rolloutEvents(state(1, { predict: rollout(old) }), state(2, { predict: rollout([...old.slice(1), added]) }));
    expect(events.map((e) => e['at'])).toEqual([added.at]);
  });

  it('tells nothing for a commit that left the rollouts alone', () => {
    const same = rollout([started]);
    expect(rolloutEvents(state(1, { predict: same }), state(2, { predict: same }))).toEqual([]);
  });
});
