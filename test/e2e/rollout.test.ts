// Automated rollouts end to end: sluice in this process, a real Envoy, the blue and green demo
// model servers and background traffic through Envoy. A healthy green is promoted through every
// step on the fleet's own load reports; sluice restarted mid-rollout continues and finishes; a
// failing green is rolled back and, once the rollback revision is applied, no request fails; an xDS
// client that never ACKs does not hold a rollout, one that stops ACKing pauses it, named.

import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO_MODELS } from '../../demo/demo-models.js';
import { startModelServer, type ModelServer } from '../../demo/model-server.js';
import { startSluice, type RunningSluice } from '../../src/main.js';
import { startStack, type SluiceStack } from '../support/sluice-stack.js';
import { predictOnce, sendRequests, type Tally } from './traffic.js';
import { blueGreenService } from '../support/services.js';
import { FakeEnvoy, NODE } from '../support/fake-envoy.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../src/xds/type-urls.js';

const FINAL = ['succeeded', 'rolled-back', 'aborted'];

let stack: SluiceStack;
/** The running sluice: the stack's, or the one started after a restart. */
let sluice: RunningSluice;
let blue: ModelServer;
let green: ModelServer;
let predictUrl: string;

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${sluice.adminUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

/** Waits until the Envoy (connected to the running sluice) has applied `revision`. */
async function waitApplied(revision: number): Promise<void> {
  await vi.waitFor(
    async () => {
      const { json } = await admin('GET', `/v1/revisions/${revision}?wait=5s`);
      expect(json).toMatchObject({ complete: true, proxies: [{ node: { id: 'rollout-envoy' }, applied: true }] });
    },
    { timeout: 20_000, interval: 50 },
  );
}

/** Blue stable with all traffic, green at 0. */
async function resetService(): Promise<void> {
  const put = await admin('PUT', '/v1/services/predict', blueGreenService(blue, green));
  expect(put.status).toBe(200);
  await waitApplied(put.json.revision);
}

function rolloutBody(steps: { weight: number; hold: string }[]) {
  return {
    candidate: 'green',
    steps,
    analysis: {
      interval: '1s',
      minRequests: 5,
      failureLimit: 0,
      // Load reports arrive every 2 s (and not at all while sluice restarts): short windows are
      // often empty, and stay open until they hold enough requests.
      inconclusiveLimit: 30,
      metrics: [{ name: 'error-rate', source: 'fleet', maxErrorRate: 0.05 }],
    },
  };
}

/** Requests through Envoy until stopped, a few at a time. */
function backgroundTraffic(): { stop(): Promise<Tally> } {
  let running = true;
  const done = (async () => {
    const total: Tally = { total: 0, failed: 0, failures: [], byVersion: {} };
    while (running) {
      const tally = await sendRequests(predictUrl, 10, 2);
      total.total += tally.total;
      total.failed += tally.failed;
      total.failures.push(...tally.failures);
      for (const [version, count] of Object.entries(tally.byVersion)) total.byVersion[version] = (total.byVersion[version] ?? 0) + count;
      await sleep(20);
    }
    return total;
  })();
  return {
    async stop() {
      running = false;
      return done;
    },
  };
}

/** The rollout once it reaches `phase` or ends; fails with its timeline otherwise. */
async function waitForPhase(phase: string, timeoutMs: number): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let rollout: any;
  while (Date.now() < deadline) {
    rollout = (await admin('GET', '/v1/services/predict/rollout')).json;
    if (rollout.phase === phase || FINAL.includes(rollout.phase)) break;
    await sleep(100);
  }
  expect(rollout.phase, JSON.stringify(rollout.timeline, null, 1)).toBe(phase);
  return rollout;
}

function decisions(rollout: any, event: string): any[] {
  return rollout.timeline.filter((d: any) => d.event === event);
}

beforeAll(async () => {
  blue = await startModelServer({ version: 'blue', model: DEMO_MODELS['blue']!.model });
  green = await startModelServer({ version: 'green', model: DEMO_MODELS['green']!.model });
  stack = await startStack({ nodeId: 'rollout-envoy' });
  sluice = stack.sluice;
  predictUrl = `${stack.listenerUrl}/predict`;
  await resetService();
  await vi.waitFor(async () => expect((await predictOnce(predictUrl)).status).toBe(200), { timeout: 10_000, interval: 50 });
  // Envoy counts a cluster's traffic from its first load report on it.
  await vi.waitFor(() => expect(sluice.loadStats.isReported('predict_green')).toBe(true), { timeout: 15_000, interval: 100 });
});

afterAll(async () => {
  if (sluice === stack?.sluice) {
    await stack.stop();
  } else {
    await stack?.envoy.stop();
    await sluice?.stop();
    if (stack) await rm(dirname(stack.config.statePath), { recursive: true, force: true });
  }
  await blue?.close();
  await green?.close();
});

describe('automated rollouts through a real Envoy', () => {
  it('promotes a healthy green through every step on the fleet error rate', async () => {
    const traffic = backgroundTraffic();
    const started = await admin('POST', '/v1/services/predict/rollouts', rolloutBody([
      { weight: 20, hold: '1s' },
      { weight: 50, hold: '1s' },
      { weight: 100, hold: '1s' },
    ]));
    expect(started.status).toBe(201);
    const rollout = await waitForPhase('succeeded', 25_000);
    const tally = await traffic.stop();

    expect(decisions(rollout, 'weights-set').map((d) => d.weights)).toEqual([
      { blue: 80, green: 20 },
      { blue: 50, green: 50 },
      { blue: 0, green: 100 },
    ]);
    expect(decisions(rollout, 'hold-passed').map((d) => d.step)).toEqual([0, 1, 2]);
    for (const step of [0, 1, 2]) {
      const passed = decisions(rollout, 'analysis').filter((d) => d.step === step && d.outcome === 'pass');
      expect(passed.length, `step ${step}`).toBeGreaterThan(0);
      expect(passed[0].measurements[0].requests).toBeGreaterThanOrEqual(5);
    }
    expect(decisions(rollout, 'analysis').filter((d) => d.outcome === 'fail')).toEqual([]);
    expect((await admin('GET', '/v1/services/predict')).json).toMatchObject({ stable: 'green', weights: { blue: 0, green: 100 } });
    expect(tally.failures).toEqual([]);
    expect(tally.byVersion['green']).toBeGreaterThan(0);

    await waitApplied(decisions(rollout, 'promoted')[0].revision);
    const after = await sendRequests(predictUrl, 50, 4);
    expect(after.byVersion).toEqual({ green: 50 });
  }, 40_000);

  it('continues after sluice restarts mid-rollout, the hold running to its original deadline', async () => {
    await resetService();
    const traffic = backgroundTraffic();
    const started = await admin('POST', '/v1/services/predict/rollouts', rolloutBody([
      { weight: 20, hold: '4s' },
      { weight: 60, hold: '1s' },
    ]));
    expect(started.status).toBe(201);
    const holding = await waitForPhase('holding', 10_000);
    expect(holding.step).toBe(0);

    await sluice.stop();
    await sleep(1_000);
    sluice = await startSluice(stack.config, pino({ level: 'warn' }));
    const rollout = await waitForPhase('succeeded', 35_000);
    const tally = await traffic.stop();

    expect(decisions(rollout, 'weights-set').map((d) => d.step)).toEqual([0, 1]);
    expect(decisions(rollout, 'hold-started').map((d) => d.step)).toEqual([0, 1]);
    const [holdPassed] = decisions(rollout, 'hold-passed');
    expect(holdPassed.step).toBe(0);
    expect(Date.parse(holdPassed.at)).toBeGreaterThanOrEqual(Date.parse(holding.holdUntil));
    expect(decisions(rollout, 'promoted')).toHaveLength(1);
    expect(tally.failures).toEqual([]);
  }, 50_000);

  it('rolls a failing green back on the errors Envoy reports, after which no request fails', async () => {
    await resetService();
    await vi.waitFor(() => expect(sluice.loadStats.isReported('predict_green')).toBe(true), { timeout: 15_000, interval: 100 });
    green.setFailureRate(1);
    const traffic = backgroundTraffic();
    const started = await admin('POST', '/v1/services/predict/rollouts', rolloutBody([
      { weight: 20, hold: '10s' },
      { weight: 100, hold: '10s' },
    ]));
    expect(started.status).toBe(201);
    const rollout = await waitForPhase('rolled-back', 20_000);
    const during = await traffic.stop();

    const failed = decisions(rollout, 'analysis').filter((d) => d.outcome === 'fail');
    expect(failed).toHaveLength(1);
    expect(failed[0].measurements[0]).toMatchObject({ outcome: 'fail', value: 1 });
    expect(failed[0].measurements[0].errors).toBe(failed[0].measurements[0].requests);
    expect(rollout.reason).toContain('more than failureLimit 0');
    expect(during.failed).toBeGreaterThan(0);
    expect(decisions(rollout, 'weights-set')).toHaveLength(1);

    const [rolledBack] = decisions(rollout, 'rolled-back');
    expect(rolledBack.weights).toEqual({ blue: 100 });
    await waitApplied(rolledBack.revision);
    const after = await sendRequests(predictUrl, 100, 4);
    expect(after.failures).toEqual([]);
    expect(after.byVersion).toEqual({ blue: 100 });
  }, 30_000);
});

describe('rollouts and xDS clients that do not keep up', () => {
  /** A scripted ADS client beside the real Envoy, reading the same node group. */
  function scriptedClient(id: string): FakeEnvoy {
    const client = new FakeEnvoy(`127.0.0.1:${sluice.xdsPort}`);
    client.subscribe(CLUSTER_TYPE, [], { ...NODE, id, cluster: 'rollout-envoy' });
    return client;
  }

  async function proxyEntry(id: string): Promise<any> {
    return (await admin('GET', '/v1/proxies')).json.proxies.find((proxy: any) => proxy.node.id === id);
  }

  it('goes on without a client that connected and never ACKs, which is reported not in sync', async () => {
    green.setFailureRate(0);
    await resetService();
    const silent = scriptedClient('never-acks');
    try {
      await silent.next(5_000); // the clusters, never ACKed
      expect(await proxyEntry('never-acks')).toMatchObject({ appliedRevision: null, services: { predict: { inSync: false } } });

      const traffic = backgroundTraffic();
      // The default proxyTimeout (5m): were the silent client waited for, the rollout would sit in waiting-for-proxies.
      const started = await admin('POST', '/v1/services/predict/rollouts', rolloutBody([{ weight: 50, hold: '1s' }]));
      expect(started.status).toBe(201);
      const rollout = await waitForPhase('succeeded', 25_000);
      expect((await traffic.stop()).failures).toEqual([]);

      const step = decisions(rollout, 'weights-set')[0].revision;
      const report = (await admin('GET', `/v1/revisions/${step}?service=predict`)).json;
      expect(report.complete).toBe(true);
      expect(report.proxies).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ node: expect.objectContaining({ id: 'rollout-envoy' }), applied: true }),
          expect.objectContaining({ node: expect.objectContaining({ id: 'never-acks' }), applied: false, neverHeld: true }),
        ]),
      );
      expect(await proxyEntry('never-acks')).toMatchObject({ services: { predict: { inSync: false } } });
    } finally {
      silent.close();
    }
  }, 40_000);

  it('pauses, naming it, for a client that held the service and stopped ACKing', async () => {
    await resetService();
    const stuck = scriptedClient('stops-acking');
    try {
      stuck.subscribe(ENDPOINT_TYPE, ['predict_blue', 'predict_green']);
      stuck.subscribe(LISTENER_TYPE);
      stuck.subscribe(ROUTE_TYPE, ['default']);
      const names = { names: { [ENDPOINT_TYPE]: ['predict_blue', 'predict_green'], [ROUTE_TYPE]: ['default'] } };
      await stuck.ackUntil(() => JSON.stringify(stuck.heldResource(ROUTE_TYPE, 'default') ?? {}).includes('predict_split'), names);
      await vi.waitFor(async () => expect(await proxyEntry('stops-acking')).toMatchObject({ services: { predict: { inSync: true } } }), {
        timeout: 10_000,
        interval: 50,
      });

      // From here on it reads nothing it is sent and ACKs nothing.
      const started = await admin('POST', '/v1/services/predict/rollouts', { ...rolloutBody([{ weight: 50, hold: '1s' }]), proxyTimeout: '1s' });
      expect(started.status).toBe(201);
      const rollout = await waitForPhase('paused', 20_000);
      expect(rollout.reason).toContain('"stops-acking"');
      expect(rollout.reason).toContain('was not applied within proxyTimeout 1s');
      expect((await admin('POST', '/v1/services/predict/rollout/abort', { reason: 'test over' })).status).toBe(200);
    } finally {
      stuck.close();
    }
  }, 40_000);
});
