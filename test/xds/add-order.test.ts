// Make-before-break on addition (XDS-NOTES §1.6, surprise 3) against the real gRPC server with
// scripted clients shaped like an Envoy on the per-type services (one stream per type and one
// endpoint stream per EDS cluster, opened once the cluster arrived): a route naming a cluster the
// node has just added waits for that cluster's endpoints to be ACKed, not only for the cluster ACK.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeMessage } from '../../src/xds/codec.js';
import type { DeltaDiscoveryResponse, DiscoveryResponse } from '../../src/xds/server/messages.js';
import type { Snapshot } from '../../src/xds/snapshot.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, ROUTE_TYPE } from '../../src/xds/type-urls.js';
import type { Service } from '../../src/model/types.js';
import { FakeDeltaEnvoy, FakeEnvoy, NODE } from '../support/fake-envoy.js';
import { XdsHarness, service, state } from '../support/xds-harness.js';

const SOTW = {
  clusters: 'envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters',
  endpoints: 'envoy.service.endpoint.v3.EndpointDiscoveryService/StreamEndpoints',
  routes: 'envoy.service.route.v3.RouteDiscoveryService/StreamRoutes',
};
const DELTA = {
  clusters: 'envoy.service.cluster.v3.ClusterDiscoveryService/DeltaClusters',
  endpoints: 'envoy.service.endpoint.v3.EndpointDiscoveryService/DeltaEndpoints',
  routes: 'envoy.service.route.v3.RouteDiscoveryService/DeltaRoutes',
};

let harness: XdsHarness;
const clients: { close(): void }[] = [];

beforeEach(async () => {
  harness = await new XdsHarness().start();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await harness.stop();
});

function blueOnly(revision: number, extra: Partial<Service> = {}) {
  return state(revision, { ...service('predict', { blue: 100, green: 0 }), ...extra });
}

/** 80/10/10 with the canary new in this change. */
function withCanary(revision: number) {
  return state(revision, service('predict', { blue: 80, green: 10, canary: 10 }, ['blue', 'green', 'canary']));
}

/** The clusters the predict split of a route configuration names, sorted. */
function splitClusters(bytes: Uint8Array): string[] {
  const config = decodeMessage('envoy.config.route.v3.RouteConfiguration', bytes) as any;
  const split = config.virtual_hosts[0].routes.find((r: any) => r.name === 'predict_split');
  return split.route.weighted_clusters.clusters.map((c: any) => c.name).sort();
}

function clusterVersion(snapshot: Snapshot): Partial<Record<string, string>> {
  return { [CLUSTER_TYPE]: snapshot.type(CLUSTER_TYPE).version };
}

describe('per-type SotW streams: adding a version that gets traffic', () => {
  function connect(method: string): FakeEnvoy {
    const client = new FakeEnvoy(harness.address, method);
    clients.push(client);
    return client;
  }

  /** The endpoint stream Envoy opens for one EDS cluster, its first response ACKed unless told otherwise. */
  async function endpointStream(name: string, ack = true): Promise<{ stream: FakeEnvoy; response: DiscoveryResponse }> {
    const stream = connect(SOTW.endpoints);
    stream.subscribe(ENDPOINT_TYPE, [name], NODE);
    const response = await stream.next();
    if (ack) stream.ack(response, [name]);
    return { stream, response };
  }

  /** A node through start-up: clusters, one endpoint stream per cluster, routes, each ACKed. */
  async function startedNode(snapshot: Snapshot): Promise<{ cds: FakeEnvoy; eds: Map<string, FakeEnvoy>; rds: FakeEnvoy }> {
    const cds = connect(SOTW.clusters);
    cds.subscribe(CLUSTER_TYPE, [], NODE);
    await cds.ackUntilVersions(clusterVersion(snapshot));
    const eds = new Map<string, FakeEnvoy>();
    for (const name of snapshot.type(ENDPOINT_TYPE).resources.keys()) eds.set(name, (await endpointStream(name)).stream);
    const rds = connect(SOTW.routes);
    rds.subscribe(ROUTE_TYPE, ['default'], NODE);
    await rds.ackUntilVersions({ [ROUTE_TYPE]: snapshot.type(ROUTE_TYPE).version }, { names: { [ROUTE_TYPE]: ['default'] } });
    await harness.waitAcked(NODE.id, { ...clusterVersion(snapshot), [ROUTE_TYPE]: snapshot.type(ROUTE_TYPE).version });
    return { cds, eds, rds };
  }

  it('sends no route after the cluster ACK until the new cluster’s endpoints are ACKed on its endpoint stream', async () => {
    const first = harness.publish(blueOnly(1)).snapshot;
    const { cds, rds } = await startedNode(first);

    const second = harness.publish(withCanary(2)).snapshot;
    cds.ack(await cds.next());
    await harness.waitAcked(NODE.id, clusterVersion(second));
    // Negative check: Envoy has ACKed the canary cluster but not received its endpoints yet.
    expect(await rds.noResponseWithin(150)).toEqual([]);

    // Envoy opens the canary's endpoint stream only now; sending the endpoints is not enough either.
    const canary = await endpointStream('predict_canary', false);
    // Negative check: the canary's endpoints are sent but not ACKed.
    expect(await rds.noResponseWithin(100)).toEqual([]);
    canary.stream.ack(canary.response, ['predict_canary']);
    const routes = await rds.next();
    expect(routes.type_url).toBe(ROUTE_TYPE);
    expect(routes.version_info).toBe(second.type(ROUTE_TYPE).version);
    expect(splitClusters(routes.resources[0]!.value)).toEqual(['predict_blue', 'predict_canary', 'predict_green']);
  });

  it('holds routes for a changed cluster until endpoints sent after it are ACKed, not ones sent before', async () => {
    const first = harness.publish(blueOnly(1)).snapshot;
    const { cds, eds, rds } = await startedNode(first);

    // Blue moves: the endpoint streams get the new endpoints and leave them unacknowledged for now.
    const moved = blueOnly(2);
    moved.services['predict']!.versions[0]!.endpoints = [{ address: '127.0.0.1', port: 6001 }];
    harness.publish(moved);
    const earlier = await Promise.all([...eds].map(async ([name, stream]) => ({ name, stream, response: await stream.next() })));
    expect(earlier.map((e) => e.response.type_url)).toEqual([ENDPOINT_TYPE, ENDPOINT_TYPE]);

    // Outlier detection changes both clusters (they re-warm); the weights change the route.
    const outlier = { consecutive5xx: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 };
    const changed = structuredClone(moved);
    changed.revision = 3;
    changed.services['predict'] = { ...changed.services['predict']!, weights: { blue: 90, green: 10 }, outlierDetection: outlier };
    const third = harness.publish(changed).snapshot;
    cds.ack(await cds.next());
    await harness.waitAcked(NODE.id, clusterVersion(third));
    for (const { name, stream, response } of earlier) stream.ack(response, [name]);
    // Negative check: neither endpoints ACKed before the change nor ones sent before it warm the changed clusters.
    expect(await rds.noResponseWithin(150)).toEqual([]);

    // Envoy re-warms each changed cluster on a new endpoint stream.
    await endpointStream('predict_blue');
    // Negative check: green still waits for its endpoints.
    expect(await rds.noResponseWithin(100)).toEqual([]);
    await endpointStream('predict_green');
    const routes = await rds.next();
    expect(routes.version_info).toBe(third.type(ROUTE_TYPE).version);
  });

  it('stops holding routes once the cluster response that added the cluster is NACKed', async () => {
    const first = harness.publish(blueOnly(1)).snapshot;
    const { cds, rds } = await startedNode(first);

    const second = harness.publish(withCanary(2)).snapshot;
    const clusters = await cds.next();
    cds.nack(clusters, first.type(CLUSTER_TYPE).version, 'cluster rejected for a test');
    // Envoy will not ask for the endpoints of a cluster it rejected: the route goes without them.
    const routes = await rds.next();
    expect(routes.version_info).toBe(second.type(ROUTE_TYPE).version);
  });

  it('does not hold routes for a cluster dropped again before its endpoints arrived', async () => {
    const first = harness.publish(blueOnly(1)).snapshot;
    const { cds, rds } = await startedNode(first);

    harness.publish(withCanary(2));
    cds.ack(await cds.next());
    // Negative check: held for the canary's endpoints.
    expect(await rds.noResponseWithin(100)).toEqual([]);
    const third = harness.publish(blueOnly(3, { weights: { blue: 90, green: 10 } })).snapshot;
    const routes = await rds.next();
    expect(routes.version_info).toBe(third.type(ROUTE_TYPE).version);
    expect(splitClusters(routes.resources[0]!.value)).toEqual(['predict_blue', 'predict_green']);
  });

  it('does not hold routes for a new STRICT_DNS cluster (its endpoints travel inside it)', async () => {
    const first = harness.publish(blueOnly(1)).snapshot;
    const { cds, rds } = await startedNode(first);

    const dns = service('predict', { blue: 80, green: 10, canary: 10 }, ['blue', 'green', 'canary']);
    dns.versions[2]!.endpoints = [{ address: 'canary.example.internal', port: 8000 }];
    const second = harness.publish(state(2, dns)).snapshot;
    expect(second.resource(ENDPOINT_TYPE, 'predict_canary')).toBeUndefined();
    cds.ack(await cds.next());
    const routes = await rds.next();
    expect(routes.version_info).toBe(second.type(ROUTE_TYPE).version);
    expect(splitClusters(routes.resources[0]!.value)).toEqual(['predict_blue', 'predict_canary', 'predict_green']);
  });
});

describe('per-type delta streams: adding a version that gets traffic', () => {
  function connect(method: string): FakeDeltaEnvoy {
    const client = new FakeDeltaEnvoy(harness.address, method);
    clients.push(client);
    return client;
  }

  async function endpointStream(name: string, ack = true): Promise<{ stream: FakeDeltaEnvoy; response: DeltaDiscoveryResponse }> {
    const stream = connect(DELTA.endpoints);
    stream.send({ node: NODE, type_url: ENDPOINT_TYPE, resource_names_subscribe: [name] });
    const response = await stream.next();
    if (ack) stream.ack(response);
    return { stream, response };
  }

  async function startedNode(snapshot: Snapshot): Promise<{ cds: FakeDeltaEnvoy; rds: FakeDeltaEnvoy }> {
    const clusterNames = [...snapshot.type(CLUSTER_TYPE).resources.keys()];
    const cds = connect(DELTA.clusters);
    cds.send({ node: NODE, type_url: CLUSTER_TYPE });
    await cds.ackUntil(() => cds.heldNames(CLUSTER_TYPE).join() === clusterNames.join());
    for (const name of snapshot.type(ENDPOINT_TYPE).resources.keys()) await endpointStream(name);
    const rds = connect(DELTA.routes);
    rds.send({ node: NODE, type_url: ROUTE_TYPE, resource_names_subscribe: ['default'] });
    await rds.ackUntil(() => rds.held(ROUTE_TYPE, 'default')?.version === snapshot.resource(ROUTE_TYPE, 'default')!.version);
    await harness.waitAcked(NODE.id, { ...clusterVersion(snapshot), [ROUTE_TYPE]: snapshot.type(ROUTE_TYPE).version });
    return { cds, rds };
  }

  it('sends no route after the cluster ACK until the new cluster’s endpoints are ACKed on its endpoint stream', async () => {
    const first = harness.publish(blueOnly(1)).snapshot;
    const { cds, rds } = await startedNode(first);

    const second = harness.publish(withCanary(2)).snapshot;
    const clusters = await cds.next();
    expect(clusters.resources.map((r) => r.name)).toEqual(['predict_canary']);
    cds.ack(clusters);
    await harness.waitAcked(NODE.id, clusterVersion(second));
    // Negative check: Envoy has ACKed the canary cluster but not received its endpoints yet.
    expect(await rds.noResponseWithin(150)).toEqual([]);

    const canary = await endpointStream('predict_canary', false);
    // Negative check: the canary's endpoints are sent but not ACKed.
    expect(await rds.noResponseWithin(100)).toEqual([]);
    canary.stream.ack(canary.response);
    const routes = await rds.next();
    expect(routes.type_url).toBe(ROUTE_TYPE);
    expect(splitClusters(routes.resources[0]!.resource.value)).toEqual(['predict_blue', 'predict_canary', 'predict_green']);
  });

  it('stops holding routes once the cluster response that added the cluster is NACKed', async () => {
    const first = harness.publish(blueOnly(1)).snapshot;
    const { cds, rds } = await startedNode(first);

    const second = harness.publish(withCanary(2)).snapshot;
    cds.nack(await cds.next(), 'cluster rejected for a test');
    const routes = await rds.next();
    expect(routes.resources[0]!.version).toBe(second.resource(ROUTE_TYPE, 'default')!.version);
  });
});

describe('ADS: no extra wait', () => {
  it('sends the route once the cluster response is ACKed, whether or not the endpoints are (Envoy ACKs clusters once warm)', async () => {
    const first = harness.publish(blueOnly(1)).snapshot;
    const client = new FakeEnvoy(harness.address);
    clients.push(client);
    const edsNames = ['predict_blue', 'predict_canary', 'predict_green'];
    const names = { names: { [ENDPOINT_TYPE]: edsNames, [ROUTE_TYPE]: ['default'] } };
    client.subscribe(CLUSTER_TYPE, [], NODE);
    client.subscribe(ENDPOINT_TYPE, edsNames);
    client.subscribe(ROUTE_TYPE, ['default']);
    await client.ackUntilVersions({ ...clusterVersion(first), [ROUTE_TYPE]: first.type(ROUTE_TYPE).version }, names);

    const second = harness.publish(withCanary(2)).snapshot;
    const clusters = await client.next();
    expect(clusters.type_url).toBe(CLUSTER_TYPE);
    const endpoints = await client.next();
    expect(endpoints.type_url).toBe(ENDPOINT_TYPE);
    // The endpoints stay unacknowledged: over ADS the cluster ACK is the warm signal.
    client.ack(clusters);
    const routes = await client.next();
    expect(routes.type_url).toBe(ROUTE_TYPE);
    expect(routes.version_info).toBe(second.type(ROUTE_TYPE).version);
  });
});
