// xDS over mutual TLS through the composition root, with scripted grpc-js clients holding
// certificates made at test time: a proxy's verified identity decides which node ids and node
// clusters it may claim (PERMISSION_DENIED otherwise, logged once and counted), so a proxy only
// ever receives the listeners its own node cluster selects; clients without a certificate the CA
// signed never get a stream; load reports are kept only from nodes their identity may claim.

import * as grpc from '@grpc/grpc-js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type SluiceConfig } from '../../src/config/config.js';
import { startSluice, type RunningSluice } from '../../src/main.js';
import { decodeMessage } from '../../src/xds/codec.js';
import { LRS_PATH, lrsDefinition, type LoadStatsRequest } from '../../src/xds/server/lrs.js';
import { CLUSTER_TYPE, LISTENER_TYPE } from '../../src/xds/type-urls.js';
import { FakeDeltaEnvoy, FakeEnvoy, NODE } from '../support/fake-envoy.js';
import { blueGreenService } from '../support/services.js';
import { createTestPki, type IssuedPair, type TestPki } from '../support/test-pki.js';

const EDGE_SPIFFE = 'spiffe://example.org/ns/ml/sa/edge-1';
const POLICY = `
rules:
  - identity: spiffe://example.org/ns/ml/sa/edge-*
    nodeIds: ["edge-*"]
    nodeClusters: [edge]
  - identity: core
    nodeIds: ["core-*"]
    nodeClusters: [core]
`;

let pki: TestPki;
let otherPki: TestPki;
let serverPair: IssuedPair;
let edge: IssuedPair;
let core: IssuedPair;
let stranger: IssuedPair;
let foreign: IssuedPair;
let nameless: IssuedPair;
let policyFile: string;

beforeAll(() => {
  pki = createTestPki();
  otherPki = createTestPki('another-ca');
  serverPair = pki.server('server');
  edge = pki.client('edge', { spiffeId: EDGE_SPIFFE, commonName: 'ignored-when-spiffe' });
  core = pki.client('core', { commonName: 'core' });
  stranger = pki.client('stranger', { commonName: 'stranger' });
  foreign = otherPki.client('foreign', { commonName: 'core' });
  nameless = pki.client('nameless', {});
  policyFile = join(pki.dir, 'policy.yaml');
  writeFileSync(policyFile, POLICY);
});
afterAll(() => {
  pki.remove();
  otherPki.remove();
});

let sluice: RunningSluice | undefined;
let logLines: { level: number; msg: string; [key: string]: unknown }[] = [];
const clients: { close(): void }[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await sluice?.stop();
  sluice = undefined;
});

async function start(config: Partial<SluiceConfig>): Promise<RunningSluice> {
  logLines = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
  sluice = await startSluice(
    { ...DEFAULT_CONFIG, xdsHost: '127.0.0.1', xdsPort: 0, adminPort: 0, statePath: ':memory:', xdsTlsCert: serverPair.certFile, xdsTlsKey: serverPair.keyFile, ...config },
    logger,
  );
  // Two listeners, each selecting one node cluster, with a service each (the default listener, selecting every node, goes).
  expect((await admin('DELETE', '/v1/listeners/default')).status).toBe(200);
  for (const name of ['edge', 'core']) {
    const port = name === 'edge' ? 8081 : 8082;
    expect((await admin('PUT', `/v1/listeners/${name}`, { port, nodes: { clusters: [name] } })).status).toBe(200);
    const body = blueGreenService({ port: 5001 }, { port: 5002 }, { listener: name, match: { prefix: `/${name}` } });
    expect((await admin('PUT', `/v1/services/${name}-svc`, body)).status).toBe(200);
  }
  return sluice;
}

function admin(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${sluice!.adminUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
}

function credentialsOf(pair: IssuedPair | undefined, ca = pki.ca): grpc.ChannelCredentials {
  return pair ? grpc.credentials.createSsl(ca, pair.key, pair.cert) : grpc.credentials.createSsl(ca);
}

function adsClient(pair: IssuedPair | undefined, ca?: Buffer): FakeEnvoy {
  const client = new FakeEnvoy(`127.0.0.1:${sluice!.xdsPort}`, undefined, credentialsOf(pair, ca));
  clients.push(client);
  return client;
}

function node(id: string, cluster: string): typeof NODE {
  return { ...NODE, id, cluster };
}

function listenerNames(response: { resources: { value: Uint8Array }[] }): string[] {
  return response.resources.map((r) => String(decodeMessage('envoy.config.listener.v3.Listener', r.value)['name'])).sort();
}

/** The error the stream ended with, waiting for it (bounded by `next`'s wait). */
async function streamError(client: FakeEnvoy): Promise<grpc.ServiceError> {
  const outcome = await client.next(5000).then(
    (response) => new Error(`expected the stream to be refused, got a ${response.type_url} response`),
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error) || !('code' in outcome)) throw outcome;
  return outcome as grpc.ServiceError;
}

async function deniedCount(stream: string, claim: string): Promise<number> {
  const text = await (await admin('GET', '/metrics')).text();
  const line = text.split('\n').find((l) => l.startsWith(`sluice_xds_denied_streams_total{stream="${stream}",claim="${claim}"}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describe('xDS over mutual TLS with an identity policy', () => {
  it('serves each proxy the listeners of the node cluster its certificate allows, and only those', async () => {
    await start({ xdsClientCa: pki.caFile, xdsIdentityPolicy: policyFile });
    const edgeProxy = adsClient(edge);
    edgeProxy.subscribe(LISTENER_TYPE, [], node('edge-1', 'edge'));
    expect(listenerNames(await edgeProxy.next(5000))).toEqual(['edge']);
    const coreProxy = adsClient(core);
    coreProxy.subscribe(LISTENER_TYPE, [], node('core-7', 'core'));
    expect(listenerNames(await coreProxy.next(5000))).toEqual(['core']);
    // The edge proxy is in the fleet under the node it claimed.
    expect(sluice!.fleet.list().map((p) => p.node.id).sort()).toEqual(['core-7', 'edge-1']);
  });

  it('denies a certificate claiming a node cluster it may not, with PERMISSION_DENIED naming the identity and the claim, logged once and counted', async () => {
    await start({ xdsClientCa: pki.caFile, xdsIdentityPolicy: policyFile });
    const impostor = adsClient(edge);
    impostor.subscribe(LISTENER_TYPE, [], node('edge-2', 'core'));
    const error = await streamError(impostor);
    expect(error.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(error.details).toBe(`identity "${EDGE_SPIFFE}" may not claim node cluster "core" (allowed: edge)`);
    expect(await deniedCount('discovery', 'node-cluster')).toBe(1);
    const denials = logLines.filter((line) => line.msg.startsWith('xDS stream denied'));
    expect(denials).toHaveLength(1);
    expect(denials[0]).toMatchObject({ level: 40, identity: EDGE_SPIFFE, node: 'edge-2', nodeCluster: 'core', claim: 'node-cluster' });
    // Never part of the fleet.
    expect(sluice!.fleet.list()).toEqual([]);
  });

  it('denies the same over delta ADS and over a per-type service', async () => {
    await start({ xdsClientCa: pki.caFile, xdsIdentityPolicy: policyFile });
    const address = `127.0.0.1:${sluice!.xdsPort}`;
    const delta = new FakeDeltaEnvoy(address, undefined, credentialsOf(edge));
    clients.push(delta);
    delta.send({ type_url: LISTENER_TYPE, resource_names_subscribe: ['*'], node: node('edge-2', 'core') });
    const perType = new FakeEnvoy(address, 'envoy.service.listener.v3.ListenerDiscoveryService/StreamListeners', credentialsOf(edge));
    clients.push(perType);
    perType.subscribe(LISTENER_TYPE, [], node('edge-2', 'core'));
    for (const client of [delta, perType]) {
      const outcome = await client.next(5000).then(
        () => undefined,
        (error: grpc.ServiceError) => error,
      );
      expect(outcome?.code).toBe(grpc.status.PERMISSION_DENIED);
    }
    expect(await deniedCount('discovery', 'node-cluster')).toBe(2);
  });

  it('denies a node id the identity may not claim, an identity the policy does not name, and a certificate naming none', async () => {
    await start({ xdsClientCa: pki.caFile, xdsIdentityPolicy: policyFile });
    const wrongId = adsClient(edge);
    wrongId.subscribe(LISTENER_TYPE, [], node('core-1', 'edge'));
    const idError = await streamError(wrongId);
    expect(idError.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(idError.details).toBe(`identity "${EDGE_SPIFFE}" may not claim node id "core-1" (allowed: edge-*)`);
    const unknown = adsClient(stranger);
    unknown.subscribe(LISTENER_TYPE, [], node('edge-3', 'edge'));
    const unknownError = await streamError(unknown);
    expect(unknownError.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(unknownError.details).toBe('identity "stranger" is not in the xDS identity policy');
    const anonymous = adsClient(nameless);
    anonymous.subscribe(LISTENER_TYPE, [], node('edge-4', 'edge'));
    const anonymousError = await streamError(anonymous);
    expect(anonymousError.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(anonymousError.details).toMatch(/^the client certificate names no identity/);
    expect(await deniedCount('discovery', 'node-id')).toBe(1);
    expect(await deniedCount('discovery', 'identity')).toBe(2);
  });

  it('never opens a stream for a client without a certificate, with one from another CA, or in plaintext', async () => {
    await start({ xdsClientCa: pki.caFile, xdsIdentityPolicy: policyFile });
    for (const client of [adsClient(undefined), adsClient(foreign)]) {
      client.subscribe(LISTENER_TYPE, [], node('core-1', 'core'));
      expect((await streamError(client)).code).toBe(grpc.status.UNAVAILABLE);
    }
    const plaintext = new FakeEnvoy(`127.0.0.1:${sluice!.xdsPort}`);
    clients.push(plaintext);
    plaintext.subscribe(LISTENER_TYPE, [], node('core-1', 'core'));
    expect((await streamError(plaintext)).code).toBe(grpc.status.UNAVAILABLE);
    expect(sluice!.fleet.list()).toEqual([]);
  });

  it('keeps load reports only from nodes the reporting identity may claim', async () => {
    await start({ xdsClientCa: pki.caFile, xdsIdentityPolicy: policyFile });
    const report = (pair: IssuedPair, nodeId: string, cluster: string, name: string): Promise<grpc.ServiceError | 'answered'> => {
      const client = new grpc.Client(`127.0.0.1:${sluice!.xdsPort}`, credentialsOf(pair));
      clients.push(client);
      const method = lrsDefinition['StreamLoadStats']!;
      const call = client.makeBidiStreamRequest(LRS_PATH, method.requestSerialize, method.responseDeserialize);
      const request: LoadStatsRequest = {
        node: { id: nodeId, cluster },
        cluster_stats: [{ cluster_name: name, upstream_locality_stats: [{ total_successful_requests: 5, total_issued_requests: 5 }] }],
      };
      call.write(request);
      return new Promise((resolve) => {
        call.once('data', () => resolve('answered'));
        call.once('error', (error: grpc.ServiceError) => resolve(error));
      });
    };
    const denied = await report(edge, 'core-1', 'core', 'core-svc_blue');
    expect(denied).toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    expect(await deniedCount('load-reports', 'node-id')).toBe(1);
    expect(sluice!.loadStats.isReported('core-svc_blue')).toBe(false);
    // Reports count only for clusters served to the node: edge-1 reads its clusters first.
    const edgeNode = adsClient(edge);
    edgeNode.subscribe(CLUSTER_TYPE, [], node('edge-1', 'edge'));
    await edgeNode.next(5000);
    expect(await report(edge, 'edge-1', 'edge', 'edge-svc_blue')).toBe('answered');
    await expect.poll(() => sluice!.loadStats.isReported('edge-svc_blue'), { timeout: 5000 }).toBe(true);
  });
});

describe('xDS over mutual TLS without an identity policy', () => {
  it("lets a certificate claim only the node cluster of the identity's own name", async () => {
    await start({ xdsClientCa: pki.caFile });
    const allowed = adsClient(core);
    allowed.subscribe(LISTENER_TYPE, [], node('any-id', 'core'));
    expect(listenerNames(await allowed.next(5000))).toEqual(['core']);
    const spiffe = adsClient(edge);
    spiffe.subscribe(LISTENER_TYPE, [], node('edge-9', 'edge-1'));
    // No listener selects `edge-1`: an empty set, but the stream is served.
    expect(listenerNames(await spiffe.next(5000))).toEqual([]);
    const denied = adsClient(core);
    denied.subscribe(LISTENER_TYPE, [], node('any-id', 'edge'));
    const error = await streamError(denied);
    expect(error.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(error.details).toBe('identity "core" may not claim node cluster "edge" (without an identity policy, only "core")');
  });
});

describe('xDS over TLS without client certificates', () => {
  it('serves any client that trusts the server certificate, asking for no client certificate', async () => {
    await start({});
    const client = adsClient(undefined);
    client.subscribe(LISTENER_TYPE, [], node('whoever', 'core'));
    expect(listenerNames(await client.next(5000))).toEqual(['core']);
    const plaintext = new FakeEnvoy(`127.0.0.1:${sluice!.xdsPort}`);
    clients.push(plaintext);
    plaintext.subscribe(LISTENER_TYPE, [], node('whoever', 'core'));
    expect((await streamError(plaintext)).code).toBe(grpc.status.UNAVAILABLE);
  });
});
