// Real Envoys over mutual TLS (envoy/bootstrap-ads-mtls.yaml) with certificates made at test time:
// an Envoy whose certificate allows its node is served and routes to the model servers; sluice's
// certificate rotates mid-run with traffic flowing (no failed request; new connections see the new
// certificate; the Envoy still takes changes); an Envoy whose certificate is for node cluster
// `edge` but claims `core` is denied and stays without configuration; a plaintext Envoy never
// gets a stream.

import { copyFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MODELS } from '../../demo/demo-models.js';
import { startModelServer, type ModelServer } from '../../demo/model-server.js';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { startSluice, type RunningSluice } from '../../src/main.js';
import { REPO_ROOT } from '../support/envoy-binary.js';
import { startEnvoy, type EnvoyProcess } from '../support/envoy-process.js';
import { freePort } from '../support/ports.js';
import { blueGreenService } from '../support/services.js';
import { createTestPki, type IssuedPair, type TestPki } from '../support/test-pki.js';
import { sendRequests, type Tally } from './traffic.js';

const MTLS_BOOTSTRAP = join(REPO_ROOT, 'envoy', 'bootstrap-ads-mtls.yaml');
const PLAIN_BOOTSTRAP = join(REPO_ROOT, 'envoy', 'bootstrap-ads.yaml');
const EDGE_ID = 'spiffe://example.org/ns/ml/sa/edge';

let pki: TestPki;
let first: IssuedPair;
let second: IssuedPair;
let edgeProxy: IssuedPair;
let stateDir: string;
let blue: ModelServer;
let green: ModelServer;
let sluice: RunningSluice;
let edgePort: number;
const envoys: EnvoyProcess[] = [];
const logLines: { level: number; msg: string; [key: string]: unknown }[] = [];
const servedCert = (): string => join(stateDir, 'xds.crt');
const servedKey = (): string => join(stateDir, 'xds.key');

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${sluice.adminUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, json: await response.json() };
}

async function envoyFor(nodeId: string, nodeCluster: string, tls: boolean): Promise<EnvoyProcess> {
  const envoy = await startEnvoy({
    xdsPort: sluice.xdsPort,
    nodeId,
    nodeCluster,
    bootstrapFile: tls ? MTLS_BOOTSTRAP : PLAIN_BOOTSTRAP,
    ...(tls ? { tls: { certFile: edgeProxy.certFile, keyFile: edgeProxy.keyFile, caFile: pki.caFile } } : {}),
  });
  envoys.push(envoy);
  return envoy;
}

/** Resolves once sluice reports `nodeId` has applied `revision` (bounded). */
async function waitApplied(nodeId: string, revision: number): Promise<void> {
  await expect
    .poll(async () => (await admin('GET', '/v1/proxies')).json.proxies.find((p: any) => p.node.id === nodeId)?.appliedRevision ?? -1, { timeout: 20_000 })
    .toBeGreaterThanOrEqual(revision);
}

/** The serial of the certificate a new TLS connection to the xDS port is served. */
function servedSerial(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: sluice.xdsPort, ca: pki.ca, cert: edgeProxy.cert, key: edgeProxy.key, ALPNProtocols: ['h2'], servername: 'sluice-xds' });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate().serialNumber.toUpperCase());
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

async function deniedCount(claim: string): Promise<number> {
  const text = await (await fetch(`${sluice.adminUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`sluice_xds_denied_streams_total{stream="discovery",claim="${claim}"}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

beforeAll(async () => {
  pki = createTestPki();
  first = pki.server('first');
  second = pki.server('second');
  edgeProxy = pki.client('edge', { spiffeId: EDGE_ID });
  stateDir = await mkdtemp(join(tmpdir(), 'sluice-mtls-'));
  copyFileSync(first.certFile, servedCert());
  copyFileSync(first.keyFile, servedKey());
  const policy = join(stateDir, 'policy.yaml');
  writeFileSync(policy, `rules:\n  - identity: ${EDGE_ID}\n    nodeIds: ["edge-*"]\n    nodeClusters: [edge]\n`);
  blue = await startModelServer({ version: 'blue', port: 0, model: DEMO_MODELS['blue']!.model });
  green = await startModelServer({ version: 'green', port: 0, model: DEMO_MODELS['green']!.model });
  sluice = await startSluice(
    {
      ...DEFAULT_CONFIG,
      xdsHost: '127.0.0.1',
      xdsPort: await freePort(),
      adminPort: 0,
      statePath: join(stateDir, 'sluice.db'),
      xdsTlsCert: servedCert(),
      xdsTlsKey: servedKey(),
      xdsClientCa: pki.caFile,
      xdsIdentityPolicy: policy,
    },
    pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line)) }),
  );
  // The edge listener (node cluster edge) carries predict; the core listener (core) something else.
  edgePort = await freePort();
  expect((await admin('DELETE', '/v1/listeners/default')).status).toBe(200);
  expect((await admin('PUT', '/v1/listeners/edge', { port: edgePort, nodes: { clusters: ['edge'] } })).status).toBe(200);
  expect((await admin('PUT', '/v1/listeners/core', { port: await freePort(), nodes: { clusters: ['core'] } })).status).toBe(200);
  expect((await admin('PUT', '/v1/services/predict', blueGreenService(blue, green, { listener: 'edge' }))).status).toBe(200);
  expect((await admin('PUT', '/v1/services/core-only', blueGreenService(blue, green, { listener: 'core', match: { prefix: '/core' } }))).status).toBe(200);
});

afterAll(async () => {
  await Promise.all(envoys.map((envoy) => envoy.stop()));
  await sluice?.stop();
  await blue?.close();
  await green?.close();
  pki?.remove();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('Envoy over mutual TLS', () => {
  it('serves an Envoy whose certificate allows its node: it routes to the model servers and holds only its node cluster\'s listener', async () => {
    const envoy = await envoyFor('edge-1', 'edge', true);
    await envoy.waitLive(20_000);
    await waitApplied('edge-1', sluice.store.current().revision);
    const dump = await envoy.configDump('dynamic_listeners');
    expect(dump.configs.map((c: any) => c.name)).toEqual(['edge']);
    await expect.poll(async () => (await sendRequests(`http://127.0.0.1:${edgePort}/predict`, 1, 1)).failed, { timeout: 10_000 }).toBe(0);
    const tally = await sendRequests(`http://127.0.0.1:${edgePort}/predict`, 100);
    expect(tally.failures).toEqual([]);
    expect(tally.byVersion).toEqual({ blue: 100 });
  });

  it('rotates sluice\'s certificate while traffic flows: no failed request, new connections see the new one, the Envoy still takes changes', async () => {
    expect(await servedSerial()).toBe(first.serial.toUpperCase());
    const url = `http://127.0.0.1:${edgePort}/predict`;
    let rotated = false;
    const tallies: Tally[] = [];
    // Traffic runs until the rotation is seen, then one batch more.
    const traffic = (async () => {
      do tallies.push(await sendRequests(url, 50, 4));
      while (!rotated);
      tallies.push(await sendRequests(url, 50, 4));
    })();
    writeFileSync(servedKey(), second.key);
    writeFileSync(servedCert(), second.cert);
    await expect.poll(servedSerial, { timeout: 15_000 }).toBe(second.serial.toUpperCase());
    rotated = true;
    await traffic;
    expect(tallies.flatMap((t) => t.failures)).toEqual([]);
    expect(tallies.reduce((sum, t) => sum + t.total, 0)).toBeGreaterThanOrEqual(100);

    const put = await admin('PUT', '/v1/services/predict/weights', { blue: 0, green: 100 });
    expect(put.status).toBe(200);
    await waitApplied('edge-1', put.json.revision);
    await expect.poll(async () => (await sendRequests(url, 20, 4)).byVersion, { timeout: 10_000 }).toEqual({ green: 20 });
  });

  it('denies an Envoy whose certificate is for node cluster edge claiming core: it stays without configuration, sluice logs and counts it', async () => {
    const before = await deniedCount('node-cluster');
    const envoy = await envoyFor('edge-2', 'core', true);
    await expect.poll(() => deniedCount('node-cluster'), { timeout: 20_000 }).toBeGreaterThan(before);
    const denial = logLines.find((line) => line.msg.startsWith('xDS stream denied') && line['node'] === 'edge-2');
    expect(denial).toMatchObject({ level: 40, identity: EDGE_ID, nodeCluster: 'core', claim: 'node-cluster' });
    expect(denial!.msg).toBe(`xDS stream denied: identity "${EDGE_ID}" may not claim node cluster "core" (allowed: edge)`);
    const dump = await envoy.configDump('dynamic_listeners');
    expect(dump.configs ?? []).toEqual([]);
    expect(sluice.fleet.list().map((p) => p.node.id)).not.toContain('edge-2');
  });

  it('never opens a stream for a plaintext Envoy', async () => {
    const envoy = await envoyFor('edge-3', 'edge', false);
    // It has tried and been turned away at least twice (its connections closed by the TLS server).
    await expect.poll(async () => (await envoy.stats('^cluster\\.xds_cluster\\.upstream_cx_total$'))['cluster.xds_cluster.upstream_cx_total'] ?? 0, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    expect(sluice.fleet.list().map((p) => p.node.id)).not.toContain('edge-3');
    expect((await envoy.configDump('dynamic_listeners')).configs ?? []).toEqual([]);
  });
});
