// An Envoy whose bootstrap lists two sluice replicas (sharing PostgreSQL) loses the one it is
// connected to: it reconnects to the other, keeps serving without a failed request, and is sent
// nothing that changes what it serves (identical versions on every replica).

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { DEMO_MODELS } from '../../demo/demo-models.js';
import { startModelServer, type ModelServer } from '../../demo/model-server.js';
import { DEFAULT_CONFIG, type SluiceConfig } from '../../src/config/config.js';
import { startSluice, type RunningSluice } from '../../src/main.js';
import { sendRequests } from '../e2e/traffic.js';
import { DEFAULT_BOOTSTRAP, startEnvoy, type EnvoyProcess } from '../support/envoy-process.js';
import { freePort } from '../support/ports.js';
import { startPostgres, type PostgresServer } from '../support/postgres-server.js';

let postgres: PostgresServer;
let envoy: EnvoyProcess;
let blue: ModelServer;
let dir: string;
let listenerPort: number;
const configs: SluiceConfig[] = [];
const replicas: (RunningSluice | undefined)[] = [];

async function appliedOn(replica: RunningSluice, revision: number): Promise<boolean> {
  const { proxies } = (await (await fetch(`${replica.adminUrl}/v1/proxies`)).json()) as { proxies: { node: { id: string }; appliedRevision: number | null }[] };
  const proxy = proxies.find((p) => p.node.id === 'failover-envoy');
  return proxy !== undefined && proxy.appliedRevision !== null && proxy.appliedRevision >= revision;
}

beforeAll(async () => {
  postgres = await startPostgres();
  blue = await startModelServer({ version: 'blue', model: DEMO_MODELS['blue']!.model });
  listenerPort = await freePort();
  for (let i = 0; i < 2; i++) {
    const config = { ...DEFAULT_CONFIG, xdsHost: '127.0.0.1', xdsPort: await freePort(), adminPort: 0, store: postgres.url, listenerPort, logLevel: 'warn' };
    configs.push(config);
    replicas.push(await startSluice(config, pino({ level: 'silent' })));
  }
  // The bootstrap lists both replicas; the harness fills in the first one's port.
  dir = await mkdtemp(join(tmpdir(), 'sluice-failover-'));
  const doc = parseDocument(await readFile(DEFAULT_BOOTSTRAP, 'utf8'));
  const endpoints = ['static_resources', 'clusters', 0, 'load_assignment', 'endpoints', 0, 'lb_endpoints'];
  doc.setIn(endpoints, doc.createNode(configs.map((c) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: c.xdsPort } } } }))));
  const bootstrapFile = join(dir, 'two-replicas.yaml');
  await writeFile(bootstrapFile, doc.toString());
  envoy = await startEnvoy({ bootstrapFile, xdsPort: configs[0]!.xdsPort, nodeId: 'failover-envoy' });
}, 90_000);

afterAll(async () => {
  await envoy?.stop();
  for (const replica of replicas) await replica?.stop();
  await blue?.close();
  await postgres?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('an Envoy that loses its sluice replica', () => {
  it('reconnects to another, keeps serving, and gets nothing new', async () => {
    const put = await fetch(`${replicas[0]!.adminUrl}/v1/services/predict`, {
      method: 'PUT',
      body: JSON.stringify({ match: { prefix: '/predict' }, versions: [{ name: 'blue', endpoints: [{ address: '127.0.0.1', port: blue.port }] }] }),
    });
    const revision = ((await put.json()) as { revision: number }).revision;
    await expect.poll(async () => (await Promise.all(replicas.map((r) => appliedOn(r!, revision)))).some(Boolean), { timeout: 20_000 }).toBe(true);
    await expect.poll(async () => (await sendRequests(`http://127.0.0.1:${listenerPort}/predict`, 5, 1)).byVersion['blue'] ?? 0, { timeout: 10_000 }).toBe(5);
    const connected = (await appliedOn(replicas[0]!, revision)) ? 0 : 1;
    const other = 1 - connected;
    const before = await envoy.stats('listener_manager.lds|cluster_manager.cds|listener_manager.listener_modified|cluster_manager.cluster_modified');

    let running = true;
    const traffic = (async () => {
      const tallies = [];
      while (running) tallies.push(await sendRequests(`http://127.0.0.1:${listenerPort}/predict`, 10, 2));
      return tallies;
    })();
    await sleep(200);
    await replicas[connected]!.stop();
    replicas[connected] = undefined;
    await expect.poll(() => appliedOn(replicas[other]!, revision), { timeout: 30_000, interval: 200 }).toBe(true);
    await sleep(300);
    running = false;
    const tallies = await traffic;

    expect(tallies.flatMap((t) => t.failures)).toEqual([]);
    expect(tallies.reduce((sum, t) => sum + t.total, 0)).toBeGreaterThan(20);
    const after = await envoy.stats('listener_manager.lds|cluster_manager.cds|listener_manager.listener_modified|cluster_manager.cluster_modified');
    for (const stat of ['listener_manager.lds.update_success', 'cluster_manager.cds.update_success', 'listener_manager.listener_modified', 'cluster_manager.cluster_modified']) {
      expect(before[stat], stat).toBeTypeOf('number');
      expect(after[stat], stat).toBe(before[stat]);
    }
  }, 90_000);
});
