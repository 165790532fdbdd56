// The composition root's wiring of rollouts, with a scripted ADS client instead of Envoy: the
// controller runs in sluice, a step's hold starts only once the connected proxy has ACKed the
// step's routes, and /metrics counts rollouts by phase.

import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { startSluice, type RunningSluice } from '../../src/main.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../src/xds/type-urls.js';
import { FakeEnvoy, NODE } from '../support/fake-envoy.js';
import { predictBody } from '../admin/harness.js';

let sluice: RunningSluice;
let envoy: FakeEnvoy;

beforeEach(async () => {
  sluice = await startSluice(
    { ...DEFAULT_CONFIG, xdsHost: '127.0.0.1', xdsPort: 0, adminPort: 0, statePath: ':memory:' },
    pino({ level: 'silent' }),
  );
  envoy = new FakeEnvoy(`127.0.0.1:${sluice.xdsPort}`);
});

afterEach(async () => {
  envoy.close();
  await sluice.stop();
});

async function call(method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${sluice.adminUrl}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return response.json();
}

/** The weights of the predict split in the route the client holds (undefined before it has one). */
function splitWeights(): number[] | undefined {
  const route = envoy.heldResource(ROUTE_TYPE, 'default');
  const split = route?.['virtual_hosts']?.[0]?.['routes']?.find((r: any) => r.name === 'predict_split');
  return split?.route.weighted_clusters.clusters.map((c: any) => c.weight.value);
}

const EDS_NAMES = ['predict_blue', 'predict_green'];
const ROUTE_NAMES = { names: { [ROUTE_TYPE]: ['default'], [ENDPOINT_TYPE]: EDS_NAMES } };

async function phaseCount(phase: string): Promise<number | undefined> {
  const text = await (await fetch(`${sluice.adminUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`sluice_rollouts{phase="${phase}"} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

it('starts a hold only once the connected proxy has ACKed the step, and counts rollouts by phase', async () => {
  envoy.subscribe(CLUSTER_TYPE, [], NODE);
  envoy.subscribe(ENDPOINT_TYPE, EDS_NAMES);
  envoy.subscribe(LISTENER_TYPE);
  envoy.subscribe(ROUTE_TYPE, ['default']);
  await call('PUT', '/v1/services/predict', predictBody());
  await envoy.ackUntil(() => splitWeights()?.join() === '10000,0' && envoy.heldNames(ENDPOINT_TYPE).join() === EDS_NAMES.join(), ROUTE_NAMES);
  expect(await phaseCount('holding')).toBe(0);

  await call('POST', '/v1/services/predict/rollouts', {
    candidate: 'green',
    steps: [{ weight: 20, hold: '1m' }],
    analysis: { interval: '10s', metrics: [] },
  });
  await vi.waitFor(async () => expect((await call('GET', '/v1/services/predict/rollout')).phase).toBe('waiting-for-proxies'));
  // Negative check, bounded: while the proxy has not ACKed the step, the hold must not start.
  await sleep(500);
  const waiting = await call('GET', '/v1/services/predict/rollout');
  expect(waiting).toMatchObject({ phase: 'waiting-for-proxies', weights: { blue: 80, green: 20 } });
  expect(await phaseCount('waiting-for-proxies')).toBe(1);

  await envoy.ackUntil(() => splitWeights()?.join() === '8000,2000', ROUTE_NAMES);
  await vi.waitFor(async () => expect((await call('GET', '/v1/services/predict/rollout')).phase).toBe('holding'));
  expect(await phaseCount('holding')).toBe(1);
  expect(await phaseCount('waiting-for-proxies')).toBe(0);
  const report = await call('GET', `/v1/revisions/${waiting.stepRevision}`);
  expect(report).toMatchObject({ complete: true, proxies: [{ node: { id: NODE.id }, applied: true }] });
});
