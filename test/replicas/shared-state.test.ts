// Several sluice replicas sharing one desired state in a real PostgreSQL server, with real Envoys
// connected to different replicas: a change made through one replica reaches the Envoys of all;
// every replica computes the same resource versions; losing the database keeps Envoys serving and
// makes changes fail clearly; when it is back, replicas catch up.

import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MODELS } from '../../demo/demo-models.js';
import { startModelServer, type ModelServer } from '../../demo/model-server.js';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { startSluice, type RunningSluice } from '../../src/main.js';
import { sendRequests } from '../e2e/traffic.js';
import { startEnvoy, type EnvoyProcess } from '../support/envoy-process.js';
import { freePort } from '../support/ports.js';
import { startPostgres, type PostgresServer } from '../support/postgres-server.js';

let postgres: PostgresServer;
let listenerPort: number;
const replicas: RunningSluice[] = [];
const envoys: EnvoyProcess[] = [];
let blue: ModelServer;
let green: ModelServer;

async function call(replica: RunningSluice, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${replica.adminUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

async function waitApplied(replica: RunningSluice, nodeId: string, revision: number): Promise<any> {
  let last: unknown;
  for (let i = 0; i < 300; i++) {
    const { json } = await call(replica, 'GET', '/v1/proxies');
    last = json;
    const proxy = json.proxies.find((p: any) => p.node.id === nodeId);
    if (proxy && proxy.appliedRevision >= revision) return proxy;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${nodeId} did not apply revision ${revision}: ${JSON.stringify(last)}`);
}

beforeAll(async () => {
  postgres = await startPostgres();
  blue = await startModelServer({ version: 'blue', model: DEMO_MODELS['blue']!.model });
  green = await startModelServer({ version: 'green', model: DEMO_MODELS['green']!.model });
  listenerPort = await freePort();
  for (let i = 0; i < 3; i++) {
    replicas.push(
      await startSluice(
        { ...DEFAULT_CONFIG, xdsHost: '127.0.0.1', xdsPort: await freePort(), adminPort: 0, store: postgres.url, listenerPort, logLevel: 'warn' },
        pino({ level: 'silent' }),
      ),
    );
  }
  // Two Envoys on one machine cannot share the listener port: the second gets its own listener.
  envoys.push(await startEnvoy({ xdsPort: replicas[1]!.xdsPort, nodeId: 'envoy-a', nodeCluster: 'edge-a' }));
  envoys.push(await startEnvoy({ xdsPort: replicas[2]!.xdsPort, nodeId: 'envoy-b', nodeCluster: 'edge-b' }));
}, 90_000);

afterAll(async () => {
  for (const envoy of envoys) await envoy.stop();
  for (const replica of replicas) await replica.stop();
  await blue?.close();
  await green?.close();
  await postgres?.stop();
});

describe('replicas sharing PostgreSQL', () => {
  it('apply a change made through one replica on the Envoys of the others, with identical versions', async () => {
    const otherPort = await freePort();
    expect((await call(replicas[0]!, 'PUT', '/v1/listeners/default', { port: listenerPort, nodes: { clusters: ['edge-a'] } })).status).toBe(200);
    expect((await call(replicas[0]!, 'PUT', '/v1/listeners/other', { port: otherPort, nodes: { clusters: ['edge-b'] } })).status).toBe(200);
    const service = (listener: string) => ({
      listener,
      match: { prefix: '/predict' },
      versions: [
        { name: 'blue', endpoints: [{ address: '127.0.0.1', port: blue.port }] },
        { name: 'green', endpoints: [{ address: '127.0.0.1', port: green.port }] },
      ],
      weights: { blue: 100, green: 0 },
    });
    expect((await call(replicas[0]!, 'PUT', '/v1/services/predict', service('default'))).status).toBe(200);
    const put = await call(replicas[0]!, 'PUT', '/v1/services/predict-b', service('other'));
    expect(put.status).toBe(200);
    const a = await waitApplied(replicas[1]!, 'envoy-a', put.json.revision);
    const b = await waitApplied(replicas[2]!, 'envoy-b', put.json.revision);
    expect(a.resources.clusters.ackedVersion).toBeTruthy();

    const shift = await call(replicas[0]!, 'PUT', '/v1/services/predict/weights', { blue: 0, green: 100 });
    expect(shift.status).toBe(200);
    // Replica 1 has no Envoy of its own, yet it answers for the whole fleet.
    const status = await call(replicas[0]!, 'GET', `/v1/revisions/${shift.json.revision}?wait=15s`);
    expect(status.json.complete).toBe(true);
    expect(status.json.proxies.map((p: any) => [p.node.id, p.applied, typeof p.replica]).sort()).toEqual([
      ['envoy-a', true, 'string'],
      ['envoy-b', true, 'string'],
    ]);
    await waitApplied(replicas[1]!, 'envoy-a', shift.json.revision);
    const tally = await sendRequests(`http://127.0.0.1:${listenerPort}/predict`, 40, 4);
    expect(tally.failures).toEqual([]);
    expect(tally.byVersion).toEqual({ green: 40 });
    const tallyB = await sendRequests(`http://127.0.0.1:${otherPort}/predict`, 20, 4);
    expect(tallyB.byVersion).toEqual({ blue: 20 });

    // Every replica is at the same revision and would send the same bytes.
    for (const replica of replicas) expect(replica.store.current().revision).toBe(shift.json.revision);
    const resourcesOn = async (replica: RunningSluice) =>
      (await call(replica, 'GET', '/v1/nodes/envoy-b/resources?cluster=edge-b')).json.versions;
    const versions = await Promise.all(replicas.map(resourcesOn));
    expect(versions[1]).toEqual(versions[0]);
    expect(versions[2]).toEqual(versions[0]);
    void b;
  });

  it('keeps Envoys serving while PostgreSQL is down, refuses changes clearly, and catches up after', async () => {
    const before = replicas[0]!.store.current().revision;
    await postgres.pause();
    const refused = await call(replicas[0]!, 'PUT', '/v1/services/predict/weights', { blue: 50, green: 50 });
    expect(refused.status).toBe(503);
    expect(refused.json.error.code).toBe('SLUICE_STORE_UNAVAILABLE');
    const during = await sendRequests(`http://127.0.0.1:${listenerPort}/predict`, 40, 4);
    expect(during.failures).toEqual([]);
    expect(during.byVersion).toEqual({ green: 40 });
    await expect.poll(async () => (await fetch(`${replicas[1]!.adminUrl}/readyz`)).status, { timeout: 10_000 }).toBe(503);

    await postgres.start();
    await expect.poll(async () => (await fetch(`${replicas[1]!.adminUrl}/readyz`)).status, { timeout: 15_000 }).toBe(200);
    const accepted = await call(replicas[2]!, 'PUT', '/v1/services/predict/weights', { blue: 100, green: 0 });
    expect(accepted.status).toBe(200);
    expect(accepted.json.revision).toBe(before + 1);
    await waitApplied(replicas[1]!, 'envoy-a', accepted.json.revision);
    const after = await sendRequests(`http://127.0.0.1:${listenerPort}/predict`, 40, 4);
    expect(after.byVersion).toEqual({ blue: 40 });
  });
});
