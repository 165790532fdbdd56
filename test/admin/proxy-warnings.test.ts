// GET /v1/proxies warns about misconfigured clients, seen through the admin app while scripted
// clients hold real xDS streams to sluice: a node id claimed by two clients (two ADS streams, or
// a second per-type stream of a type; an Envoy's own per-type streams share its id legitimately),
// a node cluster no listener selects while listeners select by cluster, and an Envoy older than
// 1.36 (cohort cookies instead of hash affinity). Each warning goes once its cause does.

import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeGroup } from '../../src/sync/node-groups.js';
import { SnapshotCache } from '../../src/xds/cache.js';
import { XdsServer } from '../../src/xds/server/ads-server.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../src/xds/type-urls.js';
import { FakeEnvoy, NODE } from '../support/fake-envoy.js';
import { buildFullApp, type FullApp } from './full-app.js';
import { send } from './harness.js';

let full: FullApp;
let xds: XdsServer;
let address: string;
const clients: FakeEnvoy[] = [];

beforeEach(async () => {
  full = await buildFullApp();
  await full.app.ready();
  xds = new XdsServer({ cache: new SnapshotCache(), callbacks: full.fleet, groupOf: (node, transport) => nodeGroup(node, transport, full.store.current().listeners), logger: pino({ level: 'silent' }) });
  address = `127.0.0.1:${await xds.listen('127.0.0.1', 0)}`;
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await xds.close();
  await full.close();
});

type Node = typeof NODE;
interface Warning {
  code: string;
  message: string;
}
interface Proxy {
  node: { id: string; cluster: string };
  streams: unknown[];
  warnings: Warning[];
}

function envoy(node: Node, method?: string, typeUrl = CLUSTER_TYPE): FakeEnvoy {
  const client = new FakeEnvoy(address, method);
  clients.push(client);
  client.subscribe(typeUrl, [], node);
  return client;
}

function perType(node: Node, service: string, method: string, typeUrl: string): FakeEnvoy {
  return envoy(node, `envoy.service.${service}.v3.${method}`, typeUrl);
}

async function proxies(): Promise<Proxy[]> {
  const res = await send(full.app, 'GET', '/v1/proxies');
  expect(res.statusCode, res.body).toBe(200);
  return res.json().proxies;
}

/** Waits (bounded, woken by fleet changes) until the fleet has `streams` streams, then reads /v1/proxies. */
async function proxiesOnceStreams(streams: number): Promise<Proxy[]> {
  const deadline = Date.now() + 5000;
  while (full.fleet.streamCount() !== streams || full.fleet.list().some((p) => Object.keys(p.types).length === 0)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`the fleet did not come to ${streams} streams: ${JSON.stringify(full.fleet.list())}`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, left);
      const stop = full.fleet.onChange(() => {
        clearTimeout(timer);
        stop();
        resolve();
      });
    });
  }
  return proxies();
}

function codes(proxy: Proxy | undefined): string[] {
  return (proxy?.warnings ?? []).map((w) => w.code);
}

const byId = (list: Proxy[], id: string): Proxy | undefined => list.find((p) => p.node.id === id);

describe('GET /v1/proxies warnings', () => {
  it('has none for a well-configured Envoy', async () => {
    envoy(NODE);
    const [proxy] = await proxiesOnceStreams(1);
    expect(proxy!.warnings).toEqual([]);
  });

  it('warns when two ADS streams claim one node id, until one leaves', async () => {
    envoy(NODE);
    const second = envoy({ ...NODE, cluster: 'other' });
    const [proxy, ...rest] = await proxiesOnceStreams(2);
    expect(rest).toEqual([]);
    expect(proxy!.warnings).toEqual([{ code: 'duplicate-node-id', message: expect.stringMatching(/2 ADS streams .*"fake-envoy".*own node\.id/) }]);

    second.close();
    expect(codes((await proxiesOnceStreams(1))[0])).toEqual([]);
  });

  it('accepts one Envoy on the four per-type services, and warns when another takes its id', async () => {
    perType(NODE, 'cluster', 'ClusterDiscoveryService/StreamClusters', CLUSTER_TYPE);
    perType(NODE, 'endpoint', 'EndpointDiscoveryService/StreamEndpoints', ENDPOINT_TYPE);
    perType(NODE, 'listener', 'ListenerDiscoveryService/StreamListeners', LISTENER_TYPE);
    perType(NODE, 'route', 'RouteDiscoveryService/StreamRoutes', ROUTE_TYPE);
    expect(codes((await proxiesOnceStreams(4))[0])).toEqual([]);

    const intruder = perType(NODE, 'cluster', 'ClusterDiscoveryService/StreamClusters', CLUSTER_TYPE);
    const [proxy] = await proxiesOnceStreams(5);
    expect(proxy!.warnings).toEqual([{ code: 'duplicate-node-id', message: expect.stringMatching(/5 per-type streams .* for 4 resource type/) }]);
    intruder.close();
    expect(codes((await proxiesOnceStreams(4))[0])).toEqual([]);
  });

  it('warns when one id is on ADS and on a per-type service', async () => {
    envoy(NODE);
    perType(NODE, 'cluster', 'ClusterDiscoveryService/StreamClusters', CLUSTER_TYPE);
    expect((await proxiesOnceStreams(2))[0]!.warnings).toEqual([
      { code: 'duplicate-node-id', message: expect.stringMatching(/ADS stream .* and on 1 per-type stream/) },
    ]);
  });

  it('warns about an Envoy whose node cluster no listener selects, naming the clusters that are selected', async () => {
    envoy({ ...NODE, id: 'edge-1', cluster: 'edge' });
    envoy({ ...NODE, id: 'lost-1', cluster: 'egde' });
    envoy({ ...NODE, id: 'grpc-1', cluster: 'egde', user_agent_name: 'gRPC Go' } as Node);
    expect((await proxiesOnceStreams(3)).map((p) => [p.node.id, codes(p)])).toEqual([
      ['edge-1', []],
      ['lost-1', []],
      ['grpc-1', []],
    ]);

    // The default listener goes to every node; once both listeners select, egde gets nothing.
    expect((await send(full.app, 'PUT', '/v1/listeners/edge', { port: 8081, nodes: { clusters: ['edge'] } })).statusCode).toBe(200);
    expect(codes(byId(await proxies(), 'lost-1'))).toEqual([]);
    const put = await send(full.app, 'PUT', '/v1/listeners/default', { address: '0.0.0.0', port: 8080, nodes: { clusters: ['internal', 'edge'] } });
    expect(put.statusCode, put.body).toBe(200);

    const list = await proxies();
    expect(codes(byId(list, 'edge-1'))).toEqual([]);
    expect(codes(byId(list, 'grpc-1'))).toEqual([]);
    expect(byId(list, 'lost-1')!.warnings).toEqual([
      {
        code: 'no-listener-selected',
        message: 'no listener selects node cluster "egde", so this Envoy receives no listener; listeners select the node clusters "edge", "internal"',
      },
    ]);
  });

  it('warns about an Envoy older than 1.36 getting cohort cookies', async () => {
    const old = { ...NODE, id: 'old-1', user_agent_build_version: { version: { major_number: 1, minor_number: 35, patch: 2 } } };
    envoy(old);
    const [proxy] = await proxiesOnceStreams(1);
    expect(proxy).toMatchObject({ versionAffinity: 'cohort-cookie' });
    expect(proxy!.warnings).toEqual([{ code: 'cohort-cookie-affinity', message: expect.stringMatching(/^Envoy 1\.35\.2 is older than 1\.36: .*cohort cookies instead of hash affinity/) }]);
  });
});
