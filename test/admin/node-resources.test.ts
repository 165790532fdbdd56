// GET /v1/nodes/{id}/resources: for nodes described by the query or known from the fleet, the
// group and resources must be exactly what the reconciler puts in the cache for that node's
// group (same choice, same translation, same versions); the node's cluster, Envoy version,
// transport and user agent change what it gets; bad queries are 400.

import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Reconciler } from '../../src/sync/reconciler.js';
import { RevisionLedger } from '../../src/sync/revision-ledger.js';
import { SnapshotCache } from '../../src/xds/cache.js';
import type { StreamTransport } from '../../src/xds/server/callbacks.js';
import type { NodeInfo } from '../../src/xds/server/messages.js';
import type { Snapshot } from '../../src/xds/snapshot.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, type ResourceTypeUrl } from '../../src/xds/type-urls.js';
import { buildFullApp, type FullApp } from './full-app.js';
import { predictBody, send } from './harness.js';

let full: FullApp;
let cache: SnapshotCache;
let reconciler: Reconciler;
const unwatch: (() => void)[] = [];

beforeEach(async () => {
  full = await buildFullApp();
  await full.app.ready();
  await send(full.app, 'PUT', '/v1/listeners/edge', { port: 8081, nodes: { clusters: ['edge'] } });
  await send(full.app, 'PUT', '/v1/services/predict', {
    ...predictBody(),
    affinity: { version: { by: 'header', name: 'x-user-id' } },
  });
  await send(full.app, 'PUT', '/v1/services/rank', { ...predictBody(), listener: 'edge', match: { prefix: '/rank' } });
  cache = new SnapshotCache();
  reconciler = new Reconciler({ state: full.store, cache, ledger: new RevisionLedger(), logger: pino({ level: 'silent' }), holdOffMs: 0 });
  reconciler.start();
});

afterEach(async () => {
  for (const stop of unwatch.splice(0)) stop();
  reconciler.stop();
  await full.close();
});

/** What the reconciler serves to a group: its snapshot, once a stream watches the group. */
function served(group: string) {
  let snapshot: Snapshot | undefined;
  unwatch.push(cache.watch(group, (s) => (snapshot = s)));
  if (snapshot === undefined) throw new Error(`the reconciler built no snapshot for ${group}`);
  const built = snapshot;
  const resources = (typeUrl: ResourceTypeUrl) => [...built.type(typeUrl).resources.values()].map((r) => JSON.parse(r.json));
  const versions = built.versions();
  return {
    versions: { listeners: versions[LISTENER_TYPE], routes: versions[ROUTE_TYPE], clusters: versions[CLUSTER_TYPE], endpoints: versions[ENDPOINT_TYPE] },
    resources: {
      listeners: resources(LISTENER_TYPE),
      routes: resources(ROUTE_TYPE),
      clusters: resources(CLUSTER_TYPE),
      endpoints: resources(ENDPOINT_TYPE),
    },
  };
}

async function dryRun(query: string) {
  const res = await send(full.app, 'GET', `/v1/nodes/edge-1/resources${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

function node(overrides: Partial<NodeInfo> = {}): NodeInfo {
  return { id: 'edge-1', cluster: '', userAgentName: 'envoy', clientVersion: '', envoyVersion: '', ...overrides };
}

const ADS: StreamTransport = { kind: 'sotw', aggregated: true };

describe('GET /v1/nodes/{id}/resources', () => {
  it.each([
    ['', node(), ADS],
    ['?cluster=edge', node({ cluster: 'edge' }), ADS],
    ['?cluster=edge&envoyVersion=1.35.2', node({ cluster: 'edge', clientVersion: '1.35.2', envoyVersion: '1.35.2' }), ADS],
    ['?cluster=edge&kind=per-type-delta', node({ cluster: 'edge' }), { kind: 'delta', aggregated: false }],
    ['?kind=ads-delta', node(), { kind: 'delta', aggregated: true }],
    ['?kind=per-type', node(), { kind: 'sotw', aggregated: false }],
    ['?userAgent=gRPC%20Go', node({ userAgentName: 'gRPC Go' }), ADS],
  ] as [string, NodeInfo, StreamTransport][])('query "%s": the group and resources the reconciler serves that node', async (query, info, transport) => {
    const answer = await dryRun(query);
    const group = reconciler.groupOf(info, transport);
    expect(answer.group).toBe(group);
    expect(answer.revision).toBe(3);
    expect(answer.node.connected).toBe(false);
    expect({ versions: answer.versions, resources: answer.resources }).toEqual(served(group));
  });

  it('follows what the node is: its cluster selects listeners, its Envoy version the affinity, its user agent the flavour', async () => {
    const listenerNames = (answer: { resources: { listeners: { name: string }[] } }) => answer.resources.listeners.map((l) => l.name);
    const anyCluster = await dryRun('');
    const edge = await dryRun('?cluster=edge');
    expect(listenerNames(anyCluster)).toHaveLength(1);
    expect(listenerNames(edge)).toHaveLength(2);
    const legacy = await dryRun('?cluster=edge&envoyVersion=1.35.2');
    expect(legacy.versions.routes).not.toBe(edge.versions.routes);
    expect(legacy.versions.clusters).toBe(edge.versions.clusters);
    const grpc = await dryRun('?userAgent=gRPC%20Node%20Pure%20JS');
    expect(listenerNames(grpc).sort()).toEqual(['predict', 'rank']);
    expect(grpc.resources.listeners[0].api_listener).toBeDefined();
  });

  it('fills in what the query leaves out from the connected node, and lets the query override it', async () => {
    const info = node({ cluster: 'edge', clientVersion: '1.35.1', envoyVersion: '1.35.1' });
    const transport: StreamTransport = { kind: 'delta', aggregated: false };
    full.fleet.streamOpened(7, info, transport);
    const answer = await dryRun('');
    expect(answer.node).toEqual({ id: 'edge-1', cluster: 'edge', kind: 'per-type-delta', envoyVersion: '1.35.1', userAgent: 'envoy', connected: true });
    expect(answer.group).toBe(reconciler.groupOf(info, transport));
    expect({ versions: answer.versions, resources: answer.resources }).toEqual(served(answer.group));

    const overridden = await dryRun('?envoyVersion=1.40.0&kind=ads');
    expect(overridden.node).toMatchObject({ cluster: 'edge', kind: 'ads', envoyVersion: '1.40.0', connected: true });
    expect(overridden.group).toBe(reconciler.groupOf({ ...info, clientVersion: '1.40.0', envoyVersion: '1.40.0' }, ADS));
  });

  it('answers for the state as it is now', async () => {
    const before = await dryRun('');
    await send(full.app, 'PUT', '/v1/services/predict/weights', { blue: 50, green: 50 });
    const after = await dryRun('');
    expect(after.revision).toBe(4);
    expect(after.versions.routes).not.toBe(before.versions.routes);
    expect(after.versions.clusters).toBe(before.versions.clusters);
  });

  it.each([
    ['kind=carrier-pigeon', '/kind'],
    ['envoyVersion=latest', '/envoyVersion'],
    ['userAgent=', '/userAgent'],
    ['cluster=a&cluster=b', '/cluster'],
  ])('refuses %s with 400', async (query, path) => {
    const res = await send(full.app, 'GET', `/v1/nodes/edge-1/resources?${query}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'SLUICE_INVALID_PARAM', path });
  });
});
