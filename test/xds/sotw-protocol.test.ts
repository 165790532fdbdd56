// State-of-the-world ADS protocol rules, against sluice's real gRPC server with a scripted client:
// nothing before the state is loaded, make-before-break ordering, nonces and stale requests,
// NACKs without a re-send loop, newly requested names, reconnects that need nothing, and shared
// encoding across many streams.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FleetStatus } from '../../src/fleet/status.js';
import type { DesiredState } from '../../src/model/types.js';
import { snapshotInput } from '../../src/sync/reconciler.js';
import { translate } from '../../src/translate/translate.js';
import type { SnapshotCache } from '../../src/xds/cache.js';
import { decodeMessage, encodeResource } from '../../src/xds/codec.js';
import type { XdsServer } from '../../src/xds/server/ads-server.js';
import type { DiscoveryResponse, EncodedResponse } from '../../src/xds/server/messages.js';
import { StreamBase } from '../../src/xds/server/stream-base.js';
import type { Snapshot } from '../../src/xds/snapshot.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../src/xds/type-urls.js';
import { FakeEnvoy, NODE } from '../support/fake-envoy.js';
import { XdsHarness, service, state } from '../support/xds-harness.js';

// Every resource encoding goes through this counted wrapper, so a test can prove how often it ran.
vi.mock('../../src/xds/codec.js', async (importOriginal) => {
  const codec = await importOriginal<typeof import('../../src/xds/codec.js')>();
  return { ...codec, encodeResource: vi.fn(codec.encodeResource) };
});

let harness: XdsHarness;
let cache: SnapshotCache;
let fleet: FleetStatus;
let server: XdsServer;
let address: string;
const clients: FakeEnvoy[] = [];

function publish(desired: DesiredState): { snapshot: Snapshot; encoded: number } {
  return harness.publish(desired);
}

function connect(): FakeEnvoy {
  const client = new FakeEnvoy(address);
  clients.push(client);
  return client;
}

/** Opens a stream and goes through Envoy's start-up: CDS, EDS, LDS, RDS, each ACKed. */
async function startedClient(node = NODE): Promise<{ client: FakeEnvoy; responses: Record<string, DiscoveryResponse> }> {
  const client = connect();
  client.subscribe(CLUSTER_TYPE, [], node);
  const cds = await client.next();
  client.subscribe(ENDPOINT_TYPE, ['predict_blue', 'predict_green']);
  const eds = await client.next();
  client.ack(cds);
  client.ack(eds, ['predict_blue', 'predict_green']);
  client.subscribe(LISTENER_TYPE);
  const lds = await client.next();
  client.subscribe(ROUTE_TYPE, ['default']);
  const rds = await client.next();
  client.ack(lds);
  client.ack(rds, ['default']);
  const acked = { [CLUSTER_TYPE]: cds.version_info, [ENDPOINT_TYPE]: eds.version_info, [LISTENER_TYPE]: lds.version_info, [ROUTE_TYPE]: rds.version_info };
  await harness.waitAcked(node.id, acked);
  return { client, responses: { cds, eds, lds, rds } };
}

beforeEach(async () => {
  harness = await new XdsHarness().start();
  ({ cache, fleet, server, address } = harness);
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await harness.stop();
});

describe('SotW ADS', () => {
  it('answers nothing until the state is loaded (an empty answer would delete everything)', async () => {
    const client = connect();
    client.subscribe(CLUSTER_TYPE, [], NODE);
    client.subscribe(LISTENER_TYPE);
    expect(await client.noResponseWithin(300)).toEqual([]);
    publish(state(1, service('predict', { blue: 100, green: 0 })));
    const first = await client.next();
    expect(first.type_url).toBe(CLUSTER_TYPE);
    expect(first.resources.map((r) => decodeMessage('envoy.config.cluster.v3.Cluster', r.value)['name'])).toEqual([
      'predict_blue',
      'predict_green',
    ]);
  });

  it('refuses a stream whose first request has no node', async () => {
    publish(state(1));
    const client = connect();
    client.subscribe(CLUSTER_TYPE);
    await expect(client.next()).rejects.toMatchObject({ code: 3 });
  });

  it('holds listeners and routes until the clusters they need are ACKed, but never holds endpoints', async () => {
    publish(state(1, service('predict', { blue: 100, green: 0 })));
    const { client, responses } = await startedClient();
    expect(responses['rds']!.type_url).toBe(ROUTE_TYPE);

    // A new service: its clusters must reach the client before the route that points at them.
    publish(state(2, service('predict', { blue: 100, green: 0 }), service('embed', { blue: 100, green: 0 })));
    const cds = await client.next();
    expect(cds.type_url).toBe(CLUSTER_TYPE);
    expect(cds.resources).toHaveLength(4);
    const beforeAck = await client.noResponseWithin(150);
    expect(beforeAck.map((r) => r.type_url).filter((t) => t === ROUTE_TYPE || t === LISTENER_TYPE)).toEqual([]);

    // Envoy asks for the new clusters' endpoints before it ACKs the clusters (they are warming).
    const edsNames = ['embed_blue', 'embed_green', 'predict_blue', 'predict_green'];
    client.subscribe(ENDPOINT_TYPE, edsNames);
    const eds = await client.next();
    expect(eds.type_url).toBe(ENDPOINT_TYPE);
    expect(eds.resources).toHaveLength(4);
    client.ack(eds, edsNames);
    expect(await client.noResponseWithin(100)).toEqual([]);

    client.ack(cds);
    const rds = await client.next();
    expect(rds.type_url).toBe(ROUTE_TYPE);
    const routeConfig = decodeMessage('envoy.config.route.v3.RouteConfiguration', rds.resources[0]!.value) as any;
    expect(routeConfig.virtual_hosts[0].routes.map((r: any) => r.name)).toContain('embed_split');
  });

  it('holds back routes on a per-type stream while the same node has clusters in flight on another', async () => {
    publish(state(1, service('predict', { blue: 100, green: 0 })));
    const cdsStream = new FakeEnvoy(address, 'envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters');
    const edsStream = new FakeEnvoy(address, 'envoy.service.endpoint.v3.EndpointDiscoveryService/StreamEndpoints');
    const rdsStream = new FakeEnvoy(address, 'envoy.service.route.v3.RouteDiscoveryService/StreamRoutes');
    clients.push(cdsStream, edsStream, rdsStream);
    cdsStream.subscribe(CLUSTER_TYPE, [], NODE);
    cdsStream.ack(await cdsStream.next());
    const predictEds = ['predict_blue', 'predict_green'];
    edsStream.subscribe(ENDPOINT_TYPE, predictEds, NODE);
    edsStream.ack(await edsStream.next(), predictEds);
    rdsStream.subscribe(ROUTE_TYPE, ['default'], NODE);
    rdsStream.ack(await rdsStream.next(), ['default']);
    // A per-type stream serves its own type only.
    rdsStream.subscribe(CLUSTER_TYPE);
    expect(await rdsStream.noResponseWithin(100)).toEqual([]);

    publish(state(2, service('predict', { blue: 100, green: 0 }), service('embed', { blue: 100, green: 0 })));
    const clusters = await cdsStream.next();
    expect(clusters.resources).toHaveLength(4);
    expect(await rdsStream.noResponseWithin(150)).toEqual([]);
    cdsStream.ack(clusters);
    // As Envoy does once it has the new clusters, the endpoint stream asks for theirs; routes follow its ACK.
    const allEds = ['embed_blue', 'embed_green', ...predictEds];
    edsStream.subscribe(ENDPOINT_TYPE, allEds);
    await edsStream.ackUntil(() => edsStream.heldNames(ENDPOINT_TYPE).length === 4, { names: { [ENDPOINT_TYPE]: allEds } });
    const routes = await rdsStream.next();
    expect(routes.type_url).toBe(ROUTE_TYPE);
    expect(fleet.list()).toHaveLength(1);
    expect(fleet.list()[0]!.streams.map((s) => s.aggregated)).toEqual([false, false, false]);
  });

  it('sends a weight change as a route update only', async () => {
    publish(state(1, service('predict', { blue: 100, green: 0 })));
    const { client } = await startedClient();
    const { encoded } = publish(state(2, service('predict', { blue: 90, green: 10 })));
    expect(encoded).toBe(1);
    const update = await client.next();
    expect(update.type_url).toBe(ROUTE_TYPE);
    expect(await client.noResponseWithin(100)).toEqual([]);
  });

  it('ignores a request with a stale nonce and answers a current one', async () => {
    publish(state(1, service('predict', { blue: 100, green: 0 })));
    const client = connect();
    client.subscribe(ENDPOINT_TYPE, ['predict_blue'], NODE);
    const first = await client.next();
    client.ack(first, ['predict_blue']);
    await harness.waitAcked(NODE.id, { [ENDPOINT_TYPE]: first.version_info });
    // Blue's endpoints move: a newer endpoint response makes the first one's nonce stale.
    const moved = service('predict', { blue: 100, green: 0 });
    moved.versions[0]!.endpoints = [{ address: '127.0.0.1', port: 6001 }];
    publish(state(2, moved));
    const newer = await client.next();
    expect(newer.nonce).not.toBe(first.nonce);

    // Naming a resource not sent yet would be answered at once, were the request not stale.
    const both = ['predict_blue', 'predict_green'];
    client.send({ type_url: ENDPOINT_TYPE, response_nonce: first.nonce, version_info: first.version_info, resource_names: both });
    // Negative check: the stale request gets no answer.
    expect(await client.noResponseWithin(200)).toEqual([]);
    // The same request with the current nonce is answered, with the newly named resource.
    client.send({ type_url: ENDPOINT_TYPE, response_nonce: newer.nonce, version_info: newer.version_info, resource_names: both });
    const answer = await client.next();
    expect(answer.resources.map((r) => decodeMessage('envoy.config.endpoint.v3.ClusterLoadAssignment', r.value)['cluster_name'])).toEqual(both);
  });

  it('records a NACK with its message, does not re-send the rejected version, and sends the next one', async () => {
    publish(state(1, service('predict', { blue: 100, green: 0 })));
    const { client, responses } = await startedClient();
    publish(state(2, service('predict', { blue: 90, green: 10 })));
    const rejected = await client.next();
    client.nack(rejected, responses['rds']!.version_info, 'route: something Envoy did not like', ['default']);
    expect(await client.noResponseWithin(300)).toEqual([]);

    const proxy = fleet.list()[0]!;
    expect(proxy.types[ROUTE_TYPE]?.lastNack).toMatchObject({ version: rejected.version_info, message: 'route: something Envoy did not like' });
    expect(proxy.types[ROUTE_TYPE]?.ackedVersion).toBe(responses['rds']!.version_info);
    expect(fleet.counters.nacks).toBe(1);

    publish(state(3, service('predict', { blue: 80, green: 20 })));
    const next = await client.next();
    expect(next.type_url).toBe(ROUTE_TYPE);
    expect(next.version_info).not.toBe(rejected.version_info);
  });

  it('answers newly requested names even when nothing changed', async () => {
    publish(state(1, service('predict', { blue: 100, green: 0 })));
    const client = connect();
    client.subscribe(ENDPOINT_TYPE, ['predict_blue'], NODE);
    const first = await client.next();
    expect(first.resources).toHaveLength(1);
    client.ack(first, ['predict_blue', 'predict_green']);
    const second = await client.next();
    expect(second.version_info).toBe(first.version_info);
    expect(second.resources).toHaveLength(2);
  });

  it('sends a reconnecting client nothing for listeners and clusters it already has', async () => {
    const built = publish(state(1, service('predict', { blue: 100, green: 0 })));
    const versions = built.snapshot.versions();
    const client = connect();
    client.send({ type_url: CLUSTER_TYPE, version_info: versions[CLUSTER_TYPE], resource_names: [], node: NODE });
    client.send({ type_url: LISTENER_TYPE, version_info: versions[LISTENER_TYPE], resource_names: [] });
    expect(await client.noResponseWithin(200)).toEqual([]);
    const proxy = fleet.list()[0]!;
    expect(proxy.types[CLUSTER_TYPE]?.ackedVersion).toBe(versions[CLUSTER_TYPE]);
    // A stale version on reconnect gets the current resources.
    const other = connect();
    other.send({ type_url: CLUSTER_TYPE, version_info: 'old', resource_names: [], node: NODE });
    expect((await other.next()).version_info).toBe(versions[CLUSTER_TYPE]);
  });

  it('re-sends endpoints after a cluster changes, even when the endpoints did not', async () => {
    publish(state(1, service('predict', { blue: 100, green: 0 })));
    const { client, responses } = await startedClient();
    // Same endpoints, a changed cluster: Envoy re-warms it and needs a fresh endpoint response.
    const input = snapshotInput(translate(state(2, service('predict', { blue: 100, green: 0 }))));
    input[CLUSTER_TYPE] = input[CLUSTER_TYPE].map((c) =>
      c.name === 'predict_green' ? { name: c.name, resource: { ...(c.resource as object), connect_timeout: '3s' } } : c,
    );
    const built = harness.publishInput(input);
    expect(built.snapshot.type(ENDPOINT_TYPE).version).toBe(responses['eds']!.version_info);
    const cds = await client.next();
    expect(cds.type_url).toBe(CLUSTER_TYPE);
    const eds = await client.next();
    expect(eds.type_url).toBe(ENDPOINT_TYPE);
    expect(eds.version_info).toBe(responses['eds']!.version_info);
    expect(eds.resources).toHaveLength(2);
  });

  it('does not re-send endpoints when no cluster changed', async () => {
    publish(state(1, service('predict', { blue: 100, green: 0 })));
    const { client } = await startedClient();
    publish(state(2, service('predict', { blue: 60, green: 40 })));
    const update = await client.next();
    expect(update.type_url).toBe(ROUTE_TYPE);
    expect(await client.noResponseWithin(150)).toEqual([]);
  });

  it('serves 100 streams from one encoding of each resource and one of the response', async () => {
    publish(state(1, service('predict', { blue: 100, green: 0 })));
    const streams = await Promise.all(Array.from({ length: 100 }, (_, i) => startedClient({ ...NODE, id: `fleet-${i}` })));
    const encodes = vi.mocked(encodeResource);
    encodes.mockClear();
    const writes = vi.spyOn(StreamBase.prototype as unknown as { writeResponse(response: EncodedResponse): boolean }, 'writeResponse');
    try {
      const { snapshot } = publish(state(2, service('predict', { blue: 50, green: 50 })));
      // The snapshot encoded the one changed resource, once.
      expect(encodes.mock.calls.map(([typeUrl]) => typeUrl)).toEqual([ROUTE_TYPE]);
      const updates = await Promise.all(streams.map(({ client }) => client.next()));
      expect(updates.every((u) => u.type_url === ROUTE_TYPE)).toBe(true);
      // The streams encoded nothing: all 100 wrote one body, carrying the snapshot's bytes, each with its stream's nonce.
      expect(encodes).toHaveBeenCalledTimes(1);
      const written = writes.mock.calls.map(([response]) => response);
      expect(written).toHaveLength(100);
      expect(new Set(written.map((r) => r.body)).size).toBe(1);
      const route = snapshot.resource(ROUTE_TYPE, 'default')!.bytes;
      expect(updates.every((u) => Buffer.from(u.resources[0]!.value).equals(route))).toBe(true);
    } finally {
      writes.mockRestore();
    }
  });

  it('leaves nothing behind when streams go away', async () => {
    publish(state(1, service('predict', { blue: 100, green: 0 })));
    for (let i = 0; i < 50; i++) {
      const client = connect();
      client.subscribe(CLUSTER_TYPE, [], NODE);
      await client.next();
      client.close();
    }
    await expect.poll(() => server.streamCount(), { timeout: 3000 }).toBe(0);
    expect(cache.watcherCount()).toBe(0);
    expect(server.nodeCount()).toBe(0);
    expect(fleet.list()).toEqual([]);
  });
});
