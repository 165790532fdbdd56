// Make-before-break on removal (XDS-NOTES §1.6 step 8) against the real gRPC server with scripted
// SotW and delta clients, ADS and per-type: the route that stops naming a cluster goes first; the
// cluster and its endpoints go once that route is ACKed; a NACKed route keeps them; kept clusters
// are the bytes sent before; only the final cluster set counts towards a revision.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RevisionLedger } from '../../src/sync/revision-ledger.js';
import { decodeMessage } from '../../src/xds/codec.js';
import type { DeltaDiscoveryResponse, DiscoveryResponse } from '../../src/xds/server/messages.js';
import type { Snapshot } from '../../src/xds/snapshot.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, PUSH_ORDER, ROUTE_TYPE, type ResourceTypeUrl } from '../../src/xds/type-urls.js';
import { FakeDeltaEnvoy, FakeEnvoy, NODE } from '../support/fake-envoy.js';
import { XdsHarness, service, state } from '../support/xds-harness.js';

let harness: XdsHarness;
const clients: { close(): void }[] = [];

beforeEach(async () => {
  harness = await new XdsHarness().start();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await harness.stop();
});

const THREE_EDS = ['predict_blue', 'predict_canary', 'predict_green'];
const ROUTE_NAMES = { names: { [ENDPOINT_TYPE]: THREE_EDS, [ROUTE_TYPE]: ['default'] } };

/** 80/10/10 blue/green/canary. */
function withCanary(revision: number) {
  return state(revision, service('predict', { blue: 80, green: 10, canary: 10 }, ['blue', 'green', 'canary']));
}

/** The canary dropped in the same change that takes its weight away. */
function withoutCanary(revision: number, blue = 100) {
  return state(revision, service('predict', { blue, green: 100 - blue }));
}

function sotwNames(response: DiscoveryResponse): string[] {
  return response.resources.map((r) => String(decodeMessage('envoy.config.cluster.v3.Cluster', r.value)['name']));
}

/** The clusters the predict split of a route configuration names. */
function splitClusters(bytes: Uint8Array): string[] {
  const config = decodeMessage('envoy.config.route.v3.RouteConfiguration', bytes) as any;
  const split = config.virtual_hosts[0].routes.find((r: any) => r.name === 'predict_split');
  return split.route.weighted_clusters.clusters.map((c: any) => c.name);
}

function connectSotw(method?: string): FakeEnvoy {
  const client = new FakeEnvoy(harness.address, method);
  clients.push(client);
  return client;
}

function connectDelta(method?: string): FakeDeltaEnvoy {
  const client = new FakeDeltaEnvoy(harness.address, method);
  clients.push(client);
  return client;
}

/** A SotW ADS client through start-up (every type subscribed and ACKed at `snapshot`). */
async function startedSotw(snapshot: Snapshot): Promise<FakeEnvoy> {
  const client = connectSotw();
  client.subscribe(CLUSTER_TYPE, [], NODE);
  client.subscribe(ENDPOINT_TYPE, THREE_EDS);
  client.subscribe(LISTENER_TYPE);
  client.subscribe(ROUTE_TYPE, ['default']);
  await client.ackUntilVersions(snapshot.versions(), ROUTE_NAMES);
  await harness.waitAcked(NODE.id, snapshot.versions());
  return client;
}

/** Reads SotW responses, ACKing all but the first route response, which it returns with what came before it. */
async function untilRoutes(client: FakeEnvoy): Promise<{ before: DiscoveryResponse[]; routes: DiscoveryResponse }> {
  const before: DiscoveryResponse[] = [];
  for (;;) {
    const response = await client.next();
    if (response.type_url === ROUTE_TYPE) return { before, routes: response };
    before.push(response);
    client.ack(response, ROUTE_NAMES.names[response.type_url as keyof typeof ROUTE_NAMES.names] ?? []);
  }
}

/** The newest revision the node applied according to a ledger of these revisions' snapshots. */
function appliedRevision(...revisions: Snapshot[]): number | undefined {
  const ledger = new RevisionLedger();
  revisions.forEach((snapshot, i) => ledger.record(i + 1, [{ group: 'default', versions: snapshot.versions() }]));
  const proxy = harness.fleet.list().find((p) => p.node.id === NODE.id)!;
  const acked = Object.fromEntries(PUSH_ORDER.map((t) => [t, proxy.types[t]?.ackedVersion]));
  return ledger.appliedRevision(acked, PUSH_ORDER.filter((t) => proxy.types[t] !== undefined) as ResourceTypeUrl[]);
}

describe('SotW: removing a version that still has weight', () => {
  it('sends the route that stops naming the cluster first, and the clusters without it only after that route is ACKed', async () => {
    const first = harness.publish(withCanary(1)).snapshot;
    const client = await startedSotw(first);

    const second = harness.publish(withoutCanary(2)).snapshot;
    const { before, routes } = await untilRoutes(client);
    expect(before.map((r) => r.type_url)).not.toContain(CLUSTER_TYPE);
    expect(splitClusters(routes.resources[0]!.value)).toEqual(['predict_blue', 'predict_green']);
    // Negative check: Envoy still routes by the old route until it ACKs the new one, so the canary stays.
    expect(await client.noResponseWithin(150)).toEqual([]);
    expect(appliedRevision(first, second)).not.toBe(2);

    client.ack(routes, ['default']);
    const clusters = await client.next();
    expect(clusters.type_url).toBe(CLUSTER_TYPE);
    expect(sotwNames(clusters)).toEqual(['predict_blue', 'predict_green']);
    expect(clusters.version_info).toBe(second.type(CLUSTER_TYPE).version);
    client.ack(clusters);
    await client.ackUntilVersions(second.versions(), ROUTE_NAMES);
    await harness.waitAcked(NODE.id, second.versions());
    expect(appliedRevision(first, second)).toBe(2);
  });

  it('keeps the cluster while the route that stops naming it is NACKed, and removes it once a later route is ACKed', async () => {
    const first = harness.publish(withCanary(1)).snapshot;
    const client = await startedSotw(first);

    harness.publish(withoutCanary(2));
    const { routes } = await untilRoutes(client);
    client.nack(routes, first.type(ROUTE_TYPE).version, 'route rejected for a test', ['default']);
    // Negative check: Envoy kept the old route, which still names the canary.
    expect(await client.noResponseWithin(200)).toEqual([]);
    expect(client.heldNames(CLUSTER_TYPE)).toEqual(THREE_EDS);

    const third = harness.publish(withoutCanary(3, 90)).snapshot;
    const next = await untilRoutes(client);
    expect(next.before.map((r) => r.type_url)).not.toContain(CLUSTER_TYPE);
    client.ack(next.routes, ['default']);
    const clusters = await client.next();
    expect(clusters.type_url).toBe(CLUSTER_TYPE);
    expect(sotwNames(clusters)).toEqual(['predict_blue', 'predict_green']);
    expect(clusters.version_info).toBe(third.type(CLUSTER_TYPE).version);
  });

  it('adds and removes in one change: new clusters with the old one kept, routes after their ACK, then the clusters without it', async () => {
    const first = harness.publish(withCanary(1)).snapshot;
    const client = await startedSotw(first);
    const canaryBytes = client.held(CLUSTER_TYPE, 'predict_canary')!.bytes;

    const second = harness.publish(state(2, service('predict', { blue: 80, green: 10, gold: 10 }, ['blue', 'green', 'gold']))).snapshot;
    const transitional = await client.next();
    expect(transitional.type_url).toBe(CLUSTER_TYPE);
    expect(sotwNames(transitional)).toEqual(['predict_blue', 'predict_canary', 'predict_gold', 'predict_green']);
    // The kept cluster is what the client already has, under a version no revision has.
    const kept = transitional.resources.find((_, i) => sotwNames(transitional)[i] === 'predict_canary')!;
    expect(Buffer.from(kept.value).equals(Buffer.from(canaryBytes))).toBe(true);
    expect([first.type(CLUSTER_TYPE).version, second.type(CLUSTER_TYPE).version]).not.toContain(transitional.version_info);

    // Envoy warms the new cluster (asks for its endpoints), then ACKs: only then the route.
    const edsNames = ['predict_blue', 'predict_canary', 'predict_gold', 'predict_green'];
    await client.ackUntil(() => client.held(ENDPOINT_TYPE, 'predict_gold') !== undefined, { names: { [ENDPOINT_TYPE]: edsNames } });
    // Negative check: no route while the clusters it names are unacknowledged.
    expect(await client.noResponseWithin(100)).toEqual([]);
    client.ack(transitional);
    const routes = await client.next();
    expect(routes.type_url).toBe(ROUTE_TYPE);
    expect(splitClusters(routes.resources[0]!.value)).toEqual(['predict_blue', 'predict_green', 'predict_gold']);
    await harness.waitAcked(NODE.id, { [CLUSTER_TYPE]: transitional.version_info });
    expect(appliedRevision(first, second)).not.toBe(2);
    // Negative check: the canary stays until the route is ACKed.
    expect(await client.noResponseWithin(100)).toEqual([]);

    client.ack(routes, ['default']);
    const final = await client.next();
    expect(final.type_url).toBe(CLUSTER_TYPE);
    expect(sotwNames(final)).toEqual(['predict_blue', 'predict_gold', 'predict_green']);
    expect(final.version_info).toBe(second.type(CLUSTER_TYPE).version);
    client.ack(final);
    await client.ackUntilVersions(second.versions(), { names: { [ENDPOINT_TYPE]: edsNames, [ROUTE_TYPE]: ['default'] } });
    await harness.waitAcked(NODE.id, second.versions());
    expect(appliedRevision(first, second)).toBe(2);
  });

  it('holds the removal on the cluster stream until the route stream of the same node has ACKed (per-type services)', async () => {
    const first = harness.publish(withCanary(1)).snapshot;
    const cds = connectSotw('envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters');
    const eds = connectSotw('envoy.service.endpoint.v3.EndpointDiscoveryService/StreamEndpoints');
    const rds = connectSotw('envoy.service.route.v3.RouteDiscoveryService/StreamRoutes');
    cds.subscribe(CLUSTER_TYPE, [], NODE);
    await cds.ackUntilVersions({ [CLUSTER_TYPE]: first.type(CLUSTER_TYPE).version });
    eds.subscribe(ENDPOINT_TYPE, THREE_EDS, NODE);
    await eds.ackUntilVersions({ [ENDPOINT_TYPE]: first.type(ENDPOINT_TYPE).version }, ROUTE_NAMES);
    rds.subscribe(ROUTE_TYPE, ['default'], NODE);
    await rds.ackUntilVersions({ [ROUTE_TYPE]: first.type(ROUTE_TYPE).version }, ROUTE_NAMES);
    await harness.waitAcked(NODE.id, { [CLUSTER_TYPE]: first.type(CLUSTER_TYPE).version, [ROUTE_TYPE]: first.type(ROUTE_TYPE).version });

    // The cluster stream watched first, so it sees the new snapshot before the route stream does.
    const second = harness.publish(withoutCanary(2)).snapshot;
    const routes = await rds.next();
    expect(splitClusters(routes.resources[0]!.value)).toEqual(['predict_blue', 'predict_green']);
    // Negative check: nothing for the cluster stream while the route is unacknowledged.
    expect(await cds.noResponseWithin(150)).toEqual([]);
    rds.ack(routes, ['default']);
    const clusters = await cds.next();
    expect(sotwNames(clusters)).toEqual(['predict_blue', 'predict_green']);
    expect(clusters.version_info).toBe(second.type(CLUSTER_TYPE).version);
  });
});

describe('delta: removing a version that still has weight', () => {
  function types(responses: DeltaDiscoveryResponse[]): string[] {
    return responses.map((r) => r.type_url);
  }

  async function startedDelta(snapshot: Snapshot): Promise<FakeDeltaEnvoy> {
    const client = connectDelta();
    client.send({ node: NODE, type_url: CLUSTER_TYPE });
    client.send({ type_url: ENDPOINT_TYPE, resource_names_subscribe: THREE_EDS });
    client.send({ type_url: LISTENER_TYPE });
    client.send({ type_url: ROUTE_TYPE, resource_names_subscribe: ['default'] });
    await client.ackUntil(() => [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE].map((t) => client.heldNames(t).length).join() === '3,3,1,1');
    await harness.waitAcked(NODE.id, snapshot.versions());
    return client;
  }

  it('sends the route first and removes the cluster and its endpoints only after that route is ACKed', async () => {
    const first = harness.publish(withCanary(1)).snapshot;
    const client = await startedDelta(first);

    const second = harness.publish(withoutCanary(2)).snapshot;
    const routes = await client.next();
    expect(routes.type_url).toBe(ROUTE_TYPE);
    expect(splitClusters(routes.resources[0]!.resource.value)).toEqual(['predict_blue', 'predict_green']);
    // Negative check: no removal while the new route is unacknowledged.
    expect(await client.noResponseWithin(150)).toEqual([]);
    expect(appliedRevision(first, second)).not.toBe(2);

    client.ack(routes);
    const removals = [await client.next(), await client.next()];
    expect(types(removals)).toEqual([CLUSTER_TYPE, ENDPOINT_TYPE]);
    for (const removal of removals) {
      expect(removal.resources).toEqual([]);
      expect(removal.removed_resources).toEqual(['predict_canary']);
      client.ack(removal);
    }
    await harness.waitAcked(NODE.id, second.versions());
    expect(appliedRevision(first, second)).toBe(2);
  });

  it('keeps the cluster and its endpoints while the route is NACKed', async () => {
    const first = harness.publish(withCanary(1)).snapshot;
    const client = await startedDelta(first);

    harness.publish(withoutCanary(2));
    const routes = await client.next();
    expect(routes.type_url).toBe(ROUTE_TYPE);
    client.nack(routes, 'route rejected for a test');
    // Negative check: Envoy kept the old route, which still names the canary.
    expect(await client.noResponseWithin(200)).toEqual([]);

    harness.publish(withoutCanary(3, 90));
    const next = await client.next();
    expect(next.type_url).toBe(ROUTE_TYPE);
    client.ack(next);
    const removals = [await client.next(), await client.next()];
    expect(types(removals)).toEqual([CLUSTER_TYPE, ENDPOINT_TYPE]);
    expect(removals.map((r) => r.removed_resources)).toEqual([['predict_canary'], ['predict_canary']]);
  });

  it('holds the removal on the cluster and endpoint streams until the route stream of the same node has ACKed (per-type services)', async () => {
    const first = harness.publish(withCanary(1)).snapshot;
    const cds = connectDelta('envoy.service.cluster.v3.ClusterDiscoveryService/DeltaClusters');
    const eds = connectDelta('envoy.service.endpoint.v3.EndpointDiscoveryService/DeltaEndpoints');
    const rds = connectDelta('envoy.service.route.v3.RouteDiscoveryService/DeltaRoutes');
    cds.send({ node: NODE, type_url: CLUSTER_TYPE });
    await cds.ackUntil(() => cds.heldNames(CLUSTER_TYPE).length === 3);
    eds.send({ node: NODE, type_url: ENDPOINT_TYPE, resource_names_subscribe: THREE_EDS });
    await eds.ackUntil(() => eds.heldNames(ENDPOINT_TYPE).length === 3);
    rds.send({ node: NODE, type_url: ROUTE_TYPE, resource_names_subscribe: ['default'] });
    await rds.ackUntil(() => rds.heldNames(ROUTE_TYPE).length === 1);
    const types3 = [CLUSTER_TYPE, ENDPOINT_TYPE, ROUTE_TYPE] as const;
    await harness.waitAcked(NODE.id, Object.fromEntries(types3.map((t) => [t, first.type(t).version])));

    harness.publish(withoutCanary(2));
    const routes = await rds.next();
    expect(splitClusters(routes.resources[0]!.resource.value)).toEqual(['predict_blue', 'predict_green']);
    // Negative check: neither the cluster nor its endpoints go while the route is unacknowledged.
    const [early] = await Promise.all([cds.noResponseWithin(150), eds.noResponseWithin(150)]).then((r) => [r.flat()]);
    expect(early).toEqual([]);
    rds.ack(routes);
    expect((await cds.next()).removed_resources).toEqual(['predict_canary']);
    expect((await eds.next()).removed_resources).toEqual(['predict_canary']);
  });
});
