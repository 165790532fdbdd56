import { describe, expect, it } from 'vitest';
import type { RolloutAnswer } from '../api/rollouts.js';
import { CliError } from './cli-error.js';
import { exitForPhase, formatRemaining, metricLines, parseSteps, phaseText, proxyLines, rolloutScreen, rolloutSummary, stepsLine } from './rollout-view.js';

const NOW = Date.parse('2026-12-03T12:00:00Z');

function rollout(overrides: Partial<RolloutAnswer> = {}): RolloutAnswer {
  return {
    revision: 9,
    service: 'predict',
    candidate: 'green',
    stable: 'blue',
    steps: [{ weight: 10, hold: '2m' }, { weight: 50, hold: '5m' }, { approve: true }, { weight: 100, hold: '0s' }],
    analysis: { interval: '1m', minRequests: 50, failureLimit: 0, inconclusiveLimit: 3, metrics: [{ name: 'error-rate', source: 'fleet', maxErrorRate: 0.05 }] },
    phase: 'holding',
    step: 1,
    holdUntil: '2026-12-03T12:03:12Z',
    failures: 0,
    inconclusive: 0,
    startedAt: '2026-12-03T11:55:00Z',
    timeline: [],
    ...overrides,
  };
}

describe('parseSteps', () => {
  it.each([
    ['10:2m,50:5m,approve,100', [{ weight: 10, hold: '2m' }, { weight: 50, hold: '5m' }, { approve: true }, { weight: 100 }]],
    ['12.5:30s', [{ weight: 12.5, hold: '30s' }]],
    [' 0:1s , approve ', [{ weight: 0, hold: '1s' }, { approve: true }]],
  ])('%s', (text, steps) => {
    expect(parseSteps(text)).toEqual(steps);
  });

  it.each(['', '10:2m,,100', '101', '-5', 'ten:2m', 'approve:1m', '10:'])('refuses %j as a usage error', (text) => {
    expect(() => parseSteps(text)).toThrow(CliError);
  });
});

describe('exitForPhase', () => {
  it.each([
    ['succeeded', 0],
    ['rolled-back', 1],
    ['aborted', 1],
    ['holding', undefined],
    ['paused', undefined],
    ['awaiting-approval', undefined],
  ] as const)('%s → %s', (phase, code) => {
    expect(exitForPhase(phase)).toBe(code);
  });
});

describe('what the screen says', () => {
  it.each([
    [0, '0s'],
    [999, '1s'],
    [65_000, '1m05s'],
    [3_725_000, '1h02m05s'],
  ])('%d ms left reads %s', (ms, text) => {
    expect(formatRemaining(ms)).toBe(text);
  });

  it('ticks passed steps and marks the current one; none once it ended', () => {
    expect(stepsLine(rollout())).toBe('10% 2m ✓ | ▶ 50% 5m | approve | 100%');
    expect(stepsLine(rollout({ phase: 'succeeded', step: 4 }))).toBe('10% 2m ✓ | 50% 5m ✓ | approve ✓ | 100% ✓');
  });

  it.each([
    [rollout(), 'holding, 3m12s left'],
    [rollout({ phase: 'paused', reason: 'by alice: checking logs' }), 'paused: by alice: checking logs'],
    [rollout({ phase: 'awaiting-approval', step: 2 }), 'awaiting approval (sluice rollout approve predict)'],
    [rollout({ phase: 'rolled-back', reason: 'error-rate 9% over 5%' }), 'rolled-back: error-rate 9% over 5%'],
  ])('phase %#', (value, text) => {
    expect(phaseText(value, NOW)).toBe(text);
  });

  it('puts each metric of the latest analysis against its threshold', () => {
    const analysed = rollout({
      timeline: [
        { at: '2026-12-03T11:58:00Z', event: 'analysis', step: 1, actor: 'rollout', outcome: 'fail', measurements: [{ metric: 'error-rate', outcome: 'fail', value: 0.5, requests: 10 }] },
        { at: '2026-12-03T11:59:00Z', event: 'analysis', step: 1, actor: 'rollout', outcome: 'pass', measurements: [{ metric: 'error-rate', outcome: 'pass', value: 0.012, requests: 1234 }] },
      ],
    });
    expect(metricLines(analysed)).toEqual(['error-rate: 1.2% (at most 5%, 1234 requests) pass']);
    expect(metricLines(rollout())).toEqual(['error-rate: no analysis yet (at most 5%)']);
    expect(metricLines(rollout({ analysis: { ...rollout().analysis, metrics: [] } }))).toEqual([]);
  });

  it('puts a relative metric against its allowed increase over stable, with both samples', () => {
    const relative = { name: 'errors-vs-stable', source: 'fleet' as const, maxErrorRateIncrease: 0.01, confidence: 0.95 };
    const comparison = { stableRequests: 2380, stableErrors: 24, maxIncrease: 0.01, confidence: 0.95, lower: 0.023, upper: 0.039 };
    const analysed = rollout({
      analysis: { ...rollout().analysis, metrics: [relative] },
      timeline: [
        {
          at: '2026-12-03T11:59:00Z',
          event: 'analysis',
          step: 1,
          actor: 'rollout',
          outcome: 'fail',
          measurements: [{ metric: 'errors-vs-stable', outcome: 'fail', value: 0.0307, requests: 2400, errors: 98, comparison, reason: 'worse' }],
        },
      ],
    });
    expect(metricLines(analysed)).toEqual(['errors-vs-stable: +3.07 points over stable (at most +1 points over stable at 95%, 2400 requests vs 2380 to stable) fail — worse']);
    expect(metricLines(rollout({ analysis: { ...rollout().analysis, metrics: [relative] } }))).toEqual([
      'errors-vs-stable: no analysis yet (at most +1 points over stable at 95%)',
    ]);
  });

  it('counts the proxies that applied the step and names what holds the others back', () => {
    expect(
      proxyLines({
        revision: 17,
        proxies: [
          { node: { id: 'edge-1', cluster: 'edge' }, streams: [], appliedRevision: 17, applied: true },
          {
            node: { id: 'edge-2', cluster: 'edge' },
            streams: [],
            appliedRevision: 16,
            applied: false,
            rejected: [{ type: 'routes', version: 'r17', message: 'regex too large\n', at: '', services: ['predict'], listeners: [] }],
          },
          {
            node: { id: 'edge-3', cluster: 'edge' },
            replica: 'b',
            streams: [],
            appliedRevision: 16,
            applied: false,
            held: [{ unit: 'service', name: 'predict', since: 17, type: 'routes', message: 'bad', at: '' }],
          },
        ],
      }),
    ).toEqual([
      '1 of 3 proxies applied revision 17',
      '  edge-2 rejects routes: regex too large',
      '  edge-3 on b holds back service predict (rejected routes: bad)',
    ]);
    expect(proxyLines({ revision: 3, proxies: [] })).toEqual(['no proxy connected (revision 3)']);
  });

  it('draws the whole screen, and a one-line summary', () => {
    const screen = rolloutScreen({ ...rollout(), weights: { blue: 50, green: 50 } }, { revision: 9, proxies: [{ node: { id: 'e', cluster: 'edge' }, streams: [], appliedRevision: 9, applied: true }] }, NOW);
    expect(screen).toEqual([
      'rollout predict: green (candidate) vs blue (stable) — holding, 3m12s left',
      '  steps:    10% 2m ✓ | ▶ 50% 5m | approve | 100%',
      '  weights:  blue 50, green 50',
      '  analysis:',
      '    error-rate: no analysis yet (at most 5%)',
      '  proxies:  1 of 1 proxies applied revision 9',
      '  latest:',
    ]);
    expect(rolloutSummary(rollout(), NOW)).toBe('green 2/4 holding, 3m12s left');
  });
});
