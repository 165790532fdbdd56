// Incremental (delta) ADS protocol rules against sluice's real gRPC server with a scripted
// client: only changes travel, subscribe always answers, removals, reconnect with
// initial_resource_versions, wildcard plus explicit names, NACK without a loop, stale nonces.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeMessage } from '../../src/xds/codec.js';
import type { DeltaDiscoveryResponse } from '../../src/xds/server/messages.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, type ResourceTypeUrl } from '../../src/xds/type-urls.js';
import { appliedRevisionOf } from '../../src/sync/proxy-report.js';
import { RevisionLedger } from '../../src/sync/revision-ledger.js';
import { FakeDeltaEnvoy, NODE } from '../support/fake-envoy.js';
import { XdsHarness, service, state } from '../support/xds-harness.js';

let harness: XdsHarness;
const clients: FakeDeltaEnvoy[] = [];

function connect(): FakeDeltaEnvoy {
  const client = new FakeDeltaEnvoy(harness.address);
  clients.push(client);
  return client;
}

function names(response: DeltaDiscoveryResponse): string[] {
  return response.resources.map((r) => r.name);
}

beforeEach(async () => {
  harness = await new XdsHarness().start();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await harness.stop();
});

describe('delta ADS', () => {
  it('answers the first wildcard request even with nothing to send, so Envoy does not wait', async () => {
    harness.publish(state(1));
    const client = connect();
    client.send({ node: NODE, type_url: CLUSTER_TYPE });
    const first = await client.next();
    expect(first.type_url).toBe(CLUSTER_TYPE);
    expect(first.resources).toEqual([]);
    expect(first.removed_resources).toEqual([]);
  });

  it('sends each resource with its own version, then only what changed', async () => {
    harness.publish(state(1, service('predict', { blue: 100, green: 0 })));
    const client = connect();
    client.send({ node: NODE, type_url: CLUSTER_TYPE });
    const clusters = await client.next();
    expect(names(clusters)).toEqual(['predict_blue', 'predict_green']);
    expect(clusters.resources.every((r) => /^[0-9a-f]{16}$/.test(r.version))).toBe(true);
    client.ack(clusters);
    client.send({ type_url: ROUTE_TYPE, resource_names_subscribe: ['default'] });
    const routes = await client.next();
    expect(names(routes)).toEqual(['default']);
    client.ack(routes);

    harness.publish(state(2, service('predict', { blue: 70, green: 30 })));
    const update = await client.next();
    expect(update.type_url).toBe(ROUTE_TYPE);
    expect(names(update)).toEqual(['default']);
    expect(update.resources[0]!.version).not.toBe(routes.resources[0]!.version);
    expect(await client.noResponseWithin(150)).toEqual([]);
  });

  it('removes a deleted cluster with removed_resources, after its route stopped using it', async () => {
    harness.publish(state(1, service('predict', { blue: 100, green: 0 }), service('embed', { blue: 100, green: 0 })));
    const client = connect();
    client.send({ node: NODE, type_url: CLUSTER_TYPE });
    const clusters = await client.next();
    client.ack(clusters);
    harness.publish(state(2, service('predict', { blue: 100, green: 0 })));
    const removal = await client.next();
    expect(removal.type_url).toBe(CLUSTER_TYPE);
    expect(removal.resources).toEqual([]);
    expect(removal.removed_resources.sort()).toEqual(['embed_blue', 'embed_green']);
  });

  it('answers every subscribed name, in removed_resources when it does not exist', async () => {
    harness.publish(state(1, service('predict', { blue: 100, green: 0 })));
    const client = connect();
    client.send({ node: NODE, type_url: ENDPOINT_TYPE, resource_names_subscribe: ['predict_blue', 'nope'] });
    const first = await client.next();
    expect(names(first)).toEqual(['predict_blue']);
    expect(first.removed_resources).toEqual(['nope']);
    client.ack(first);
    // Subscribing again to a name the client already holds is still answered (it may have dropped it).
    client.send({ type_url: ENDPOINT_TYPE, resource_names_subscribe: ['predict_blue'] });
    const again = await client.next();
    expect(names(again)).toEqual(['predict_blue']);
    // A missing name that appears later is sent then.
    client.ack(again);
    harness.publish(state(2, service('predict', { blue: 100, green: 0 }), service('nope', { x: 100 }, ['x'])));
    expect(await client.noResponseWithin(150)).toEqual([]);
    client.send({ type_url: ENDPOINT_TYPE, resource_names_subscribe: ['nope_x'] });
    expect(names(await client.next())).toEqual(['nope_x']);
  });

  it('needs no answer for a plain unsubscribe, but re-sends a name still covered by the wildcard', async () => {
    harness.publish(state(1, service('predict', { blue: 100, green: 0 })));
    const client = connect();
    client.send({ node: NODE, type_url: ENDPOINT_TYPE, resource_names_subscribe: ['predict_blue', 'predict_green'] });
    client.ack(await client.next());
    client.send({ type_url: ENDPOINT_TYPE, resource_names_unsubscribe: ['predict_green'] });
    expect(await client.noResponseWithin(150)).toEqual([]);

    const wildcard = connect();
    wildcard.send({ node: NODE, type_url: CLUSTER_TYPE, resource_names_subscribe: ['*', 'predict_blue'] });
    wildcard.ack(await wildcard.next());
    wildcard.send({ type_url: CLUSTER_TYPE, resource_names_unsubscribe: ['predict_blue'] });
    const resent = await wildcard.next();
    expect(names(resent)).toEqual(['predict_blue']);
  });

  it('on reconnect sends only what differs from initial_resource_versions and removes what is gone', async () => {
    const { snapshot } = harness.publish(state(1, service('predict', { blue: 100, green: 0 })));
    const clusters = snapshot.type(CLUSTER_TYPE).resources;
    const client = connect();
    client.send({
      node: NODE,
      type_url: CLUSTER_TYPE,
      initial_resource_versions: {
        predict_blue: clusters.get('predict_blue')!.version,
        predict_green: 'stale-version',
        retired_cluster: 'whatever',
      },
    });
    const response = await client.next();
    expect(names(response)).toEqual(['predict_green']);
    expect(response.removed_resources).toEqual(['retired_cluster']);

    // A client that already has everything gets nothing, and counts as up to date.
    const current = connect();
    current.send({
      node: NODE,
      type_url: CLUSTER_TYPE,
      initial_resource_versions: Object.fromEntries([...clusters.values()].map((c) => [c.name, c.version])),
    });
    expect(await current.noResponseWithin(200)).toEqual([]);
    const proxy = harness.fleet.list().find((p) => p.types[CLUSTER_TYPE]?.ackedVersion);
    expect(proxy?.types[CLUSTER_TYPE]?.ackedVersion).toBe(snapshot.type(CLUSTER_TYPE).version);
  });

  it('on reconnect sends nothing for subscribed names the client holds at the current version, only what differs', async () => {
    const { snapshot } = harness.publish(state(1, service('predict', { blue: 100, green: 0 })));
    const edsNames = ['predict_blue', 'predict_green'];
    const first = connect();
    first.send({ node: NODE, type_url: CLUSTER_TYPE });
    first.send({ type_url: ENDPOINT_TYPE, resource_names_subscribe: edsNames });
    first.send({ type_url: LISTENER_TYPE });
    first.send({ type_url: ROUTE_TYPE, resource_names_subscribe: ['default'] });
    const types = [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE];
    await first.ackUntil(() => types.map((t) => first.heldNames(t).length).join() === '2,2,1,1');
    const held = Object.fromEntries(types.map((t) => [t, first.heldVersions(t)]));
    first.close();

    // Envoy reconnecting over delta: every type's first request declares what it holds.
    const again = connect();
    again.send({ node: NODE, type_url: CLUSTER_TYPE, initial_resource_versions: held[CLUSTER_TYPE] });
    again.send({ type_url: ENDPOINT_TYPE, resource_names_subscribe: edsNames, initial_resource_versions: held[ENDPOINT_TYPE] });
    again.send({ type_url: LISTENER_TYPE, initial_resource_versions: held[LISTENER_TYPE] });
    again.send({ type_url: ROUTE_TYPE, resource_names_subscribe: ['default'], initial_resource_versions: held[ROUTE_TYPE] });
    // Negative check: it has everything, so nothing is sent (not even the endpoints and routes it named).
    expect(await again.noResponseWithin(200)).toEqual([]);
    await harness.waitAcked(NODE.id, snapshot.versions());
    // A later subscribe on the same stream is still answered, held or not.
    again.send({ type_url: ROUTE_TYPE, resource_names_subscribe: ['default'] });
    expect(names(await again.next())).toEqual(['default']);

    // A client whose route and one endpoint differ gets exactly those.
    const behind = connect();
    behind.send({ node: { ...NODE, id: 'behind' }, type_url: ENDPOINT_TYPE, resource_names_subscribe: edsNames, initial_resource_versions: { ...held[ENDPOINT_TYPE], predict_green: 'old' } });
    behind.send({ type_url: ROUTE_TYPE, resource_names_subscribe: ['default'], initial_resource_versions: { default: 'old' } });
    const answers = [await behind.next(), await behind.next()];
    expect(answers.map((r) => [r.type_url, names(r), r.removed_resources])).toEqual([
      [ENDPOINT_TYPE, ['predict_green'], []],
      [ROUTE_TYPE, ['default'], []],
    ]);
  });

  it('on reconnect re-sends the endpoints of a cluster that changed while away, though the client holds them', async () => {
    // The cluster changes (a health check) while its endpoints stay the same: Envoy re-warms the
    // cluster and needs a fresh endpoint response, or it waits for its initial fetch timeout.
    const { snapshot } = harness.publish(state(1, service('predict', { blue: 100, green: 0 })));
    const endpointVersions = Object.fromEntries([...snapshot.type(ENDPOINT_TYPE).resources.values()].map((r) => [r.name, r.version]));
    const clusterVersions = Object.fromEntries([...snapshot.type(CLUSTER_TYPE).resources.values()].map((r) => [r.name, r.version]));
    const healthChecked = { ...service('predict', { blue: 100, green: 0 }), healthCheck: { path: '/healthz', interval: '5s', timeout: '2s', unhealthyThreshold: 2, healthyThreshold: 1 } };
    const changed = harness.publish(state(2, healthChecked));
    expect(changed.snapshot.type(ENDPOINT_TYPE).version).toBe(snapshot.type(ENDPOINT_TYPE).version);

    const client = connect();
    client.send({ node: NODE, type_url: CLUSTER_TYPE, initial_resource_versions: clusterVersions });
    client.send({ type_url: ENDPOINT_TYPE, resource_names_subscribe: ['predict_blue', 'predict_green'], initial_resource_versions: endpointVersions });
    const clusters = await client.next();
    expect(clusters.type_url).toBe(CLUSTER_TYPE);
    expect(names(clusters)).toEqual(['predict_blue', 'predict_green']);
    const endpoints = await client.next();
    expect(endpoints.type_url).toBe(ENDPOINT_TYPE);
    expect(names(endpoints)).toEqual(['predict_blue', 'predict_green']);
  });

  it('does not count a reconnected proxy as applied while a type it asked for awaits its ACK', async () => {
    // A proxy away during a weight change reconnects: its clusters, endpoints and listeners are
    // current at once (nothing to send), its routes are not. Until it ACKs the new routes it has
    // not applied the change, though every type that has an ACK matches.
    const ledger = new RevisionLedger();
    const first = harness.publish(state(1, service('predict', { blue: 100, green: 0 })));
    ledger.record(1, [{ group: 'default', versions: first.snapshot.versions() }]);
    const edsNames = ['predict_blue', 'predict_green'];
    const types = [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE];
    const before = connect();
    before.send({ node: NODE, type_url: CLUSTER_TYPE });
    before.send({ type_url: ENDPOINT_TYPE, resource_names_subscribe: edsNames });
    before.send({ type_url: LISTENER_TYPE });
    before.send({ type_url: ROUTE_TYPE, resource_names_subscribe: ['default'] });
    await before.ackUntil(() => types.map((t) => before.heldNames(t).length).join() === '2,2,1,1');
    const held = Object.fromEntries(types.map((t) => [t, before.heldVersions(t)]));
    before.close();
    await harness.waitForFleet(() => harness.fleet.list().length === 0, 'the proxy gone');

    const second = harness.publish(state(2, service('predict', { blue: 50, green: 50 })));
    ledger.record(2, [{ group: 'default', versions: second.snapshot.versions() }]);
    const again = connect();
    const applied = (): number | null => {
      const proxy = harness.fleet.list().find((p) => p.node.id === NODE.id);
      return proxy === undefined ? null : appliedRevisionOf(proxy, ledger);
    };
    // The requests arrive one by one, as Envoy sends them: clusters, endpoints, listeners, routes.
    const reported = (...typeUrls: ResourceTypeUrl[]) => () => typeUrls.every((t) => harness.fleet.list()[0]?.types[t]?.ackedVersion !== undefined);
    again.send({ node: NODE, type_url: CLUSTER_TYPE, initial_resource_versions: held[CLUSTER_TYPE] });
    again.send({ type_url: ENDPOINT_TYPE, resource_names_subscribe: edsNames, initial_resource_versions: held[ENDPOINT_TYPE] });
    await harness.waitForFleet(reported(CLUSTER_TYPE, ENDPOINT_TYPE), 'current clusters and endpoints reported');
    expect(applied()).toBeNull();
    again.send({ type_url: LISTENER_TYPE, initial_resource_versions: held[LISTENER_TYPE] });
    await harness.waitForFleet(reported(CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE), 'current listeners reported');
    expect(applied()).toBeNull();
    again.send({ type_url: ROUTE_TYPE, resource_names_subscribe: ['default'], initial_resource_versions: held[ROUTE_TYPE] });
    const routes = await again.next();
    expect(routes.type_url).toBe(ROUTE_TYPE);
    expect(applied()).toBeNull();
    again.ack(routes);
    await harness.waitForFleet(() => applied() === 2, 'revision 2 applied after the route ACK');
  });

  it('honours subscription changes even with a stale nonce', async () => {
    harness.publish(state(1, service('predict', { blue: 100, green: 0 })));
    const client = connect();
    client.send({ node: NODE, type_url: ENDPOINT_TYPE, resource_names_subscribe: ['predict_blue'] });
    const first = await client.next();
    client.ack(first);
    harness.publish(state(2, service('predict', { blue: 100, green: 0 }, ['blue', 'green']), service('embed', { blue: 100, green: 0 })));
    client.send({ type_url: ENDPOINT_TYPE, response_nonce: 'long-gone', resource_names_subscribe: ['embed_blue'] });
    expect(names(await client.next())).toEqual(['embed_blue']);
  });

  it('does not re-send a NACKed version, records the NACK, and sends the next change', async () => {
    harness.publish(state(1, service('predict', { blue: 100, green: 0 })));
    const client = connect();
    client.send({ node: NODE, type_url: ROUTE_TYPE, resource_names_subscribe: ['default'] });
    client.ack(await client.next());
    harness.publish(state(2, service('predict', { blue: 50, green: 50 })));
    const rejected = await client.next();
    client.nack(rejected, 'weights rejected for a test');
    expect(await client.noResponseWithin(300)).toEqual([]);
    const proxy = harness.fleet.list()[0]!;
    expect(proxy.streams.map((s) => s.kind)).toEqual(['delta']);
    expect(proxy.types[ROUTE_TYPE]?.lastNack?.message).toBe('weights rejected for a test');

    harness.publish(state(3, service('predict', { blue: 40, green: 60 })));
    const next = await client.next();
    expect(next.resources[0]!.version).not.toBe(rejected.resources[0]!.version);
    const config = decodeMessage('envoy.config.route.v3.RouteConfiguration', next.resources[0]!.resource.value) as any;
    const split = config.virtual_hosts[0].routes.find((r: any) => r.name === 'predict_split');
    expect(split.route.weighted_clusters.clusters.map((c: any) => c.weight.value)).toEqual([4000, 6000]);
  });

  it('holds routes until new clusters are acknowledged', async () => {
    harness.publish(state(1, service('predict', { blue: 100, green: 0 })));
    const client = connect();
    client.send({ node: NODE, type_url: CLUSTER_TYPE });
    client.ack(await client.next());
    client.send({ type_url: LISTENER_TYPE });
    client.ack(await client.next());
    client.send({ type_url: ROUTE_TYPE, resource_names_subscribe: ['default'] });
    client.ack(await client.next());

    harness.publish(state(2, service('predict', { blue: 100, green: 0 }), service('embed', { blue: 100, green: 0 })));
    const clusters = await client.next();
    expect(clusters.type_url).toBe(CLUSTER_TYPE);
    expect(names(clusters)).toEqual(['embed_blue', 'embed_green']);
    expect(await client.noResponseWithin(150)).toEqual([]);
    client.ack(clusters);
    expect((await client.next()).type_url).toBe(ROUTE_TYPE);
  });
});
