// Relative rollout analysis through real processes: `sluice serve` (bin/sluice.js), a real Envoy
// and the blue and green demo model servers failing a known share of requests on purpose. The
// rollout is started with the CLI (`rollout start -f`, a body with `maxErrorRateIncrease`). A green
// as bad as a blue that fails 10% of requests — which an absolute maxErrorRate of 5% would fail —
// is promoted; a green failing 40% against that blue is rolled back, and the audit log and
// `rollout status` name both error rates. Every wait is for a state, bounded.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendRequests, withinBinomialTolerance } from '../e2e/traffic.js';
import { SETTLED_PHASES, startProcessStack, type ProcessStack } from '../support/process-stack.js';
import { blueGreenService } from '../support/services.js';
import { runSluice } from '../support/sluice-process.js';

const STABLE_FAILURE_RATE = 0.1;

let stack: ProcessStack;

beforeAll(async () => {
  stack = await startProcessStack('relative-analysis-envoy');
});

afterAll(async () => {
  await stack?.stop();
});

/** Requests through Envoy, a few in flight, until stopped; failures are expected here. */
function backgroundTraffic(): { stop(): Promise<void> } {
  let running = true;
  const done = (async () => {
    while (running) await sendRequests(stack.predictUrl, 20, 4);
  })();
  return {
    async stop() {
      running = false;
      await done;
    },
  };
}

/** Blue stable with all traffic and green at 0, Envoy having applied it. */
async function resetService(): Promise<void> {
  const put = await stack.http('PUT', '/v1/services/predict', blueGreenService(stack.blue, stack.green));
  expect(put.status).toBe(200);
  await stack.waitApplied(put.json.revision);
}

/** Starts a one-step rollout of green with the CLI, judged only against blue. */
async function startRelativeRollout(): Promise<void> {
  await stack.startRollout('relative.yaml', [
    'candidate: green',
    'steps:',
    '  - {weight: 50, hold: 2s}',
    'analysis:',
    // The window stays open while the samples cannot tell, so it grows until they can. At 99%
    // a green as good as blue is failed by an analysis far less than once in a thousand runs.
    '  interval: 1s',
    '  minRequests: 100',
    '  failureLimit: 0',
    '  inconclusiveLimit: 120',
    '  metrics:',
    '    - {name: errors-vs-stable, source: fleet, maxErrorRateIncrease: 0.05, confidence: 0.99}',
  ]);
}

async function waitForEnd(): Promise<any> {
  return stack.rolloutWhen((rollout) => SETTLED_PHASES.includes(rollout.phase), 90_000);
}

function analyses(rollout: any, outcome: string): any[] {
  return rollout.timeline.filter((d: any) => d.event === 'analysis' && d.outcome === outcome);
}

describe('a rollout judged against the stable version', () => {
  it('promotes a green as bad as its blue (10% errors each), which an absolute 5% would fail', async () => {
    await resetService();
    stack.blue.setFailureRate(STABLE_FAILURE_RATE);
    stack.green.setFailureRate(STABLE_FAILURE_RATE);
    const traffic = backgroundTraffic();
    try {
      await startRelativeRollout();
      const rollout = await waitForEnd();
      expect(rollout.phase, JSON.stringify(rollout.timeline)).toBe('succeeded');
      expect(analyses(rollout, 'fail')).toEqual([]);
      const [passed] = analyses(rollout, 'pass');
      const m = passed.measurements[0];
      expect(m.comparison).toMatchObject({ maxIncrease: 0.05, confidence: 0.99 });
      expect(m.comparison.upper).toBeLessThanOrEqual(0.05);
      // Both versions really failed about 10% of requests in the window judged.
      expect(withinBinomialTolerance(m.errors, m.requests, STABLE_FAILURE_RATE), JSON.stringify(m)).toBe(true);
      expect(withinBinomialTolerance(m.comparison.stableErrors, m.comparison.stableRequests, STABLE_FAILURE_RATE), JSON.stringify(m)).toBe(true);
    } finally {
      await traffic.stop();
    }
  }, 120_000);

  it('rolls back a green failing 40% against a blue failing 10%, and says so with both rates', async () => {
    await resetService();
    stack.blue.setFailureRate(STABLE_FAILURE_RATE);
    stack.green.setFailureRate(0.4);
    const traffic = backgroundTraffic();
    try {
      await startRelativeRollout();
      const rollout = await waitForEnd();
      expect(rollout.phase, JSON.stringify(rollout.timeline)).toBe('rolled-back');
      const [failed] = analyses(rollout, 'fail');
      const m = failed.measurements[0];
      expect(m.comparison.lower).toBeGreaterThan(0.05);
      expect(rollout.reason).toMatch(/errors-vs-stable: error rate [\d.]+% \(\d+ of \d+\) vs stable [\d.]+% \(\d+ of \d+\), \+[\d.]+ points; the increase is at least \+[\d.]+ > \+5 at 99%/);

      const audit = (await stack.http('GET', '/v1/audit')).json.entries.map((e: any) => JSON.stringify(e)).join('\n');
      expect(audit).toMatch(/step 0 analysis fail \(errors-vs-stable [\d.]+% vs stable [\d.]+%, \+[\d.]+ points, at least \+[\d.]+ > \+5 at 99%, [\d,]+\/[\d,]+ requests\)/);

      const status = await runSluice(['rollout', 'status', 'predict', '--server', stack.sluice.adminUrl]);
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/errors-vs-stable: \+[\d.]+ points over stable \(at most \+5 points over stable at 99%, \d+ requests vs \d+ to stable\) fail/);
    } finally {
      await traffic.stop();
      stack.blue.setFailureRate(0);
      stack.green.setFailureRate(0);
    }
  }, 120_000);
});
