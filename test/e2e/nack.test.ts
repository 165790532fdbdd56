// A NACK from a real Envoy: sluice sends a route Envoy rejects at runtime (weights summing to 0
// pass the schema but not Envoy's checks). The NACK is reported with Envoy's own message, the
// rejected version is not re-sent in a loop, traffic keeps flowing on the last good route, and
// the next good change is applied.

import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MODELS } from '../../demo/demo-models.js';
import { startModelServer, type ModelServer } from '../../demo/model-server.js';
import { snapshotInput } from '../../src/sync/reconciler.js';
import { translate } from '../../src/translate/translate.js';
import { ROUTE_TYPE } from '../../src/xds/type-urls.js';
import { startEnvoy, type EnvoyProcess } from '../support/envoy-process.js';
import { freePort } from '../support/ports.js';
import { XdsHarness, service, state } from '../support/xds-harness.js';
import { sendRequests } from './traffic.js';

let harness: XdsHarness;
let envoy: EnvoyProcess;
let blue: ModelServer;
let green: ModelServer;
let listenerPort: number;

function desired(revision: number, weights: Record<string, number>) {
  const predict = service('predict', weights);
  predict.versions[0]!.endpoints = [{ address: '127.0.0.1', port: blue.port }];
  predict.versions[1]!.endpoints = [{ address: '127.0.0.1', port: green.port }];
  const result = state(revision, predict);
  result.listeners['default'] = { name: 'default', address: '127.0.0.1', port: listenerPort };
  return result;
}

function routesStatus() {
  return harness.fleet.list().find((p) => p.node.id === 'nack-envoy')?.types[ROUTE_TYPE];
}

beforeAll(async () => {
  blue = await startModelServer({ version: 'blue', port: 0, model: DEMO_MODELS['blue']!.model });
  green = await startModelServer({ version: 'green', port: 0, model: DEMO_MODELS['green']!.model });
  listenerPort = await freePort();
  harness = await new XdsHarness().start();
  harness.publish(desired(1, { blue: 100, green: 0 }));
  envoy = await startEnvoy({ xdsPort: Number(harness.address.split(':')[1]), nodeId: 'nack-envoy' });
  await envoy.waitLive(20_000);
});

afterAll(async () => {
  await envoy?.stop();
  await harness?.stop();
  await blue?.close();
  await green?.close();
});

describe('a NACK from a real Envoy', () => {
  it('is reported with Envoy’s message, not re-sent, and traffic keeps flowing', async () => {
    const predictUrl = `http://127.0.0.1:${listenerPort}/predict`;
    await expect.poll(async () => (await sendRequests(predictUrl, 5, 1)).byVersion['blue'] ?? 0, { timeout: 10_000 }).toBe(5);
    const good = routesStatus()?.ackedVersion;
    expect(good).toBeTruthy();

    // The fault: a route whose weights sum to 0 (Envoy rejects it when it applies it).
    const input = snapshotInput(translate(desired(2, { blue: 100, green: 0 })));
    const faulty = JSON.parse(JSON.stringify(input[ROUTE_TYPE]));
    const split = faulty[0].resource.virtual_hosts[0].routes.find((r: { name: string }) => r.name === 'predict_split');
    for (const cluster of split.route.weighted_clusters.clusters) cluster.weight = 0;
    input[ROUTE_TYPE] = faulty;
    const { snapshot } = harness.publishInput(input);
    const rejected = snapshot.type(ROUTE_TYPE).version;

    await expect.poll(() => routesStatus()?.lastNack?.version, { timeout: 10_000 }).toBe(rejected);
    const status = routesStatus()!;
    expect(status.lastNack?.message).toMatch(/weight/i);
    expect(status.ackedVersion).toBe(good);
    const sentAt = status.sentAt;
    const responses = harness.fleet.counters.responses;
    await sleep(1000);
    expect(harness.fleet.counters.responses).toBe(responses);
    expect(routesStatus()?.sentAt).toBe(sentAt);

    const tally = await sendRequests(predictUrl, 100, 8);
    expect(tally.failures).toEqual([]);
    expect(tally.byVersion).toEqual({ blue: 100 });

    const fixed = harness.publish(desired(3, { blue: 0, green: 100 }));
    await expect.poll(() => routesStatus()?.ackedVersion, { timeout: 10_000 }).toBe(fixed.snapshot.type(ROUTE_TYPE).version);
    const after = await sendRequests(predictUrl, 50, 8);
    expect(after.failures).toEqual([]);
    expect(after.byVersion).toEqual({ green: 50 });
  });
});
