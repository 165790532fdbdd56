// A rollout that shadows first, through real processes: `sluice serve` (bin/sluice.js), a real
// Envoy and demo model servers, the rollout started with the CLI (`rollout start -f`) while
// background traffic runs. A green that is blue's model off by one on 20% of inputs is rolled back
// during its shadow step — no user was ever served by it, and its shadow is gone from the service —
// with the agreement named in the audit log and `rollout status`; a green that answers exactly as
// blue does passes the shadow step and reaches the weight step. Every wait is for a state, bounded.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MODELS } from '../../demo/demo-models.js';
import { startModelServer, type ModelServer } from '../../demo/model-server.js';
import { SETTLED_PHASES, startProcessStack, type ProcessStack } from '../support/process-stack.js';
import { blueGreenService } from '../support/services.js';
import { runSluice } from '../support/sluice-process.js';

let stack: ProcessStack;
const greens: ModelServer[] = [];

beforeAll(async () => {
  stack = await startProcessStack('shadow-rollout-envoy');
});

afterAll(async () => {
  await stack?.stop();
  await Promise.all(greens.map((green) => green.close()));
});

/** A green that is blue's model, off by one on `quirkShare` of inputs; the service at blue 100 with it as green. */
async function serviceWithGreen(quirkShare: number): Promise<ModelServer> {
  const green = await startModelServer({ version: 'green', model: DEMO_MODELS['blue']!.model, quirkShare });
  greens.push(green);
  const put = await stack.http('PUT', '/v1/services/predict', blueGreenService(stack.blue, green));
  expect(put.status, JSON.stringify(put.json)).toBe(200);
  await stack.waitApplied(put.json.revision);
  return green;
}

/**
 * User requests through Envoy with distinct inputs (the quirk is a property of the input), a few in
 * flight, until stopped; tallies the version that served each one (its `x-sluice-version`), and as
 * `no answer` a request that got none (none should: a shadow changes routes, never the listener).
 */
function backgroundTraffic(): { servedBy: Record<string, number>; stop(): Promise<void> } {
  const servedBy: Record<string, number> = {};
  let running = true;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (running) {
      const i = next++;
      const served = await fetch(stack.predictUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ features: [i % 101, Math.floor(i / 101), (i * 7) % 13] }),
      }).then(
        async (response) => {
          await response.arrayBuffer();
          return response.headers.get('x-sluice-version') ?? `none (status ${response.status})`;
        },
        () => 'no answer',
      );
      servedBy[served] = (servedBy[served] ?? 0) + 1;
    }
  };
  const done = Promise.all(Array.from({ length: 6 }, worker));
  return {
    servedBy,
    async stop() {
      running = false;
      await done;
    },
  };
}

/**
 * Shadow 50% for 2s, then green at 50% for 2s. The agreement is judged at the shadow step (the
 * window grows while the samples cannot tell); the fleet metric only at the weight step, where
 * its minRequests keeps it inconclusive so that the test can abort the rollout there.
 */
async function startShadowRollout(): Promise<void> {
  await stack.startRollout('shadow-rollout.yaml', [
    'candidate: green',
    'steps:',
    '  - {shadow: 50, hold: 2s}',
    '  - {weight: 50, hold: 2s}',
    'shadowCompare: {kind: numeric, path: /prediction, absolute: 0.000001}',
    'analysis:',
    '  interval: 1s',
    '  minRequests: 1000000000',
    '  failureLimit: 0',
    '  inconclusiveLimit: 120',
    '  metrics:',
    '    - {name: answers, source: shadow, minAgreement: 0.95, minSamples: 100}',
    '    - {name: errors, source: fleet, maxErrorRate: 0.5}',
  ]);
}

function rolloutWhen(done: (rollout: any) => boolean): Promise<any> {
  return stack.rolloutWhen(done, 60_000);
}

describe('a rollout that shadows first (bin/sluice.js, real Envoy)', () => {
  it('rolls back a green that disagrees on 20% of inputs during its shadow step: no user served by it, its shadow gone', async () => {
    const green = await serviceWithGreen(0.2);
    const traffic = backgroundTraffic();
    let rollout: any;
    try {
      await startShadowRollout();
      rollout = await rolloutWhen((r) => SETTLED_PHASES.includes(r.phase));
    } finally {
      await traffic.stop();
    }
    expect(rollout.phase, JSON.stringify(rollout.timeline)).toBe('rolled-back');
    expect(rollout.step).toBe(0);
    // Green computed copies, but every user was served by blue.
    expect(green.stats.requests).toBeGreaterThan(0);
    expect(Object.keys(traffic.servedBy), JSON.stringify(traffic.servedBy)).toEqual(['blue']);

    const failed = rollout.timeline.find((d: any) => d.event === 'analysis' && d.outcome === 'fail');
    const [m] = failed.measurements;
    expect(failed.measurements.map((x: any) => x.metric)).toEqual(['answers']);
    expect(m.requests).toBeGreaterThanOrEqual(100);
    expect(m.shadow.upper).toBeLessThan(0.95);
    expect(rollout.reason).toMatch(/answers: agreement [\d.]+% \(\d+ of \d+\), at most [\d.]+% at 95% < minAgreement 95%/);

    const service = (await stack.http('GET', '/v1/services/predict')).json;
    expect(service).not.toHaveProperty('shadow');
    expect(service.weights).toEqual({ blue: 100, green: 0 });

    const audit = (await stack.http('GET', '/v1/audit')).json.entries.map((e: any) => JSON.stringify(e)).join('\n');
    expect(audit).toMatch(/step 0 analysis fail \(answers agreement [\d.]+% \(\d+ of \d+\), at most [\d.]+% at 95% < minAgreement 95%\)/);
    const status = await runSluice(['rollout', 'status', 'predict', '--server', stack.sluice.adminUrl]);
    expect(status.stdout).toMatch(/answers: [\d.]+% agreement \(agreement at least 95% at 95%, \d+ compared answers\) fail — agreement [\d.]+% \(\d+ of \d+\)/);
  }, 120_000);

  it('takes a green that answers as blue does through the shadow step to the weight step, removing the shadow there', async () => {
    await serviceWithGreen(0);
    const traffic = backgroundTraffic();
    try {
      await startShadowRollout();
      // At the shadow step the service shadows green with the rollout's comparison, all traffic on blue.
      const shadowing = await rolloutWhen((r) => r.stepShadow !== undefined);
      expect(shadowing.step).toBe(0);
      const service = (await stack.http('GET', '/v1/services/predict')).json;
      expect(service.shadow).toEqual({ to: 'green', percent: 50, compare: { kind: 'numeric', path: '/prediction', absolute: 0.000001 }, keep: 'answers' });
      expect(service.weights).toEqual({ blue: 100, green: 0 });
      const weighted = await rolloutWhen((r) => r.step === 1 || SETTLED_PHASES.includes(r.phase));
      expect(weighted.step, JSON.stringify(weighted.timeline)).toBe(1);
      const aborted = await stack.http('POST', '/v1/services/predict/rollout/abort', { reason: 'the test saw the weight step' });
      expect(aborted.status, JSON.stringify(aborted.json)).toBe(200);
    } finally {
      await traffic.stop();
    }
    const rollout = (await stack.http('GET', '/v1/services/predict/rollout')).json;
    expect(rollout.phase).toBe('aborted');
    const passed = rollout.timeline.find((d: any) => d.event === 'analysis' && d.step === 0 && d.outcome === 'pass');
    expect(passed.measurements).toMatchObject([{ metric: 'answers', outcome: 'pass', value: 1 }]);
    expect(passed.measurements[0].shadow.lower).toBeGreaterThanOrEqual(0.95);
    // The weights step that left the shadow step removed the shadow in its own commit.
    const weightsSet = rollout.timeline.find((d: any) => d.event === 'weights-set' && d.step === 1);
    const diff = (await stack.http('GET', `/v1/revisions/${weightsSet.revision}/diff`)).json;
    const service = diff.changes.find((c: any) => c.kind === 'service' && c.name === 'predict');
    expect(service.paths, JSON.stringify(diff)).toContainEqual(expect.objectContaining({ path: '/shadow', old: expect.objectContaining({ to: 'green' }) }));
    expect(service.paths).toContainEqual(expect.objectContaining({ path: '/weights/green', new: 50 }));
    expect((await stack.http('GET', '/v1/services/predict')).json).not.toHaveProperty('shadow');
  }, 120_000);
});
