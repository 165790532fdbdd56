// A service mesh through the composition root: 300 scripted Envoys, each with its own node cluster
// (as sidecars named after their service), connect to one sluice. Nodes whose clusters select the
// same listeners share one group and one snapshot: however many node clusters connect, sluice builds
// one snapshot per distinct output, each proxy gets exactly the listeners that select its cluster,
// and when a listener's selector changes, the nodes it now selects move to the group that has it.

import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { startSluice, type RunningSluice } from '../../src/main.js';
import { Snapshot } from '../../src/xds/snapshot.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../src/xds/type-urls.js';
import { predictBody } from '../admin/harness.js';
import { FakeEnvoy, NODE } from '../support/fake-envoy.js';
import { freePort } from '../support/ports.js';

const PROXIES = 300;
const SYNC_MS = 60_000;

let sluice: RunningSluice;
/** The scripted Envoys by the number of their node cluster. */
const clients = new Map<number, FakeEnvoy>();
/** What every proxy asks for: Envoy asks for the names its clusters and listeners give; these cover both outputs. */
const NAMES = { [ENDPOINT_TYPE]: ['predict_blue', 'predict_green', 'rank_blue', 'rank_green'], [ROUTE_TYPE]: ['default', 'edge'] };

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${sluice.adminUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: response.status, json: await response.json() };
}

async function change(method: string, path: string, body: unknown): Promise<number> {
  const answer = await call(method, path, body);
  expect(answer.status, JSON.stringify(answer.json)).toBeLessThan(300);
  return answer.json.revision as number;
}

const cluster = (i: number): string => `mesh-${i}`;
const edgeSelecting = (count: number) => ({ port: EDGE_PORT, nodes: { clusters: Array.from({ length: count }, (_, i) => cluster(i)) } });
let EDGE_PORT = 0;

/** What a proxy of node cluster `mesh-<i>` must hold when the edge listener selects the first `selected` clusters. */
function expected(i: number, selected: number): { listeners: string[]; endpoints: string[]; routes: string[] } {
  return i < selected
    ? { listeners: ['default', 'edge'], endpoints: ['predict_blue', 'predict_green', 'rank_blue', 'rank_green'], routes: ['default', 'edge'] }
    : { listeners: ['default'], endpoints: ['predict_blue', 'predict_green'], routes: ['default'] };
}

/** ACKs until the proxy of node cluster `mesh-<i>` holds exactly what it must when the edge listener selects `selected` clusters. */
async function syncs(i: number, selected: number): Promise<void> {
  const client = clients.get(i)!;
  const want = expected(i, selected);
  const held = (typeUrl: string): string => client.heldNames(typeUrl).sort().join();
  await client.ackUntil(
    () => held(LISTENER_TYPE) === want.listeners.join() && held(ROUTE_TYPE) === want.routes.join() && held(ENDPOINT_TYPE) === want.endpoints.join(),
    { names: NAMES, timeoutMs: SYNC_MS },
  );
}

/** A scripted Envoy of node cluster `mesh-<i>`, in sync. */
async function connect(i: number, selected: number): Promise<void> {
  const client = new FakeEnvoy(`127.0.0.1:${sluice.xdsPort}`);
  clients.set(i, client);
  client.subscribe(CLUSTER_TYPE, [], { ...NODE, id: `sidecar-${i}`, cluster: cluster(i) });
  client.subscribe(ENDPOINT_TYPE, NAMES[ENDPOINT_TYPE]);
  client.subscribe(LISTENER_TYPE);
  client.subscribe(ROUTE_TYPE, NAMES[ROUTE_TYPE]);
  await syncs(i, selected);
}

/** Waits until sluice reports `revision` applied by all `count` proxies. */
async function waitApplied(revision: number, count: number): Promise<void> {
  const deadline = Date.now() + SYNC_MS;
  for (;;) {
    const report = (await call('GET', `/v1/revisions/${revision}?wait=10s`)).json as { complete: boolean; proxies: unknown[] };
    if (report.complete && report.proxies.length === count) return;
    if (Date.now() > deadline) throw new Error(`revision ${revision} not applied by ${count} proxies: ${JSON.stringify(report).slice(0, 500)}`);
  }
}

beforeEach(async () => {
  EDGE_PORT = await freePort();
  sluice = await startSluice(
    { ...DEFAULT_CONFIG, xdsHost: '127.0.0.1', xdsPort: 0, adminPort: 0, statePath: ':memory:', listenerPort: await freePort() },
    pino({ level: 'silent' }),
  );
});

afterEach(async () => {
  vi.restoreAllMocks();
  for (const client of clients.values()) client.close();
  clients.clear();
  await sluice.stop();
});

describe('node groups in a mesh of node clusters', () => {
  it('300 node clusters share one snapshot per distinct output, each gets the listeners that select it, and selector changes move nodes', async () => {
    await change('PUT', '/v1/services/predict', predictBody());
    await change('PUT', '/v1/listeners/edge', edgeSelecting(10));
    const revision = await change('PUT', '/v1/services/rank', { ...predictBody(), listener: 'edge', match: { prefix: '/rank' } });
    // One proxy of each output first: once both hold the revision, it is built.
    await Promise.all([connect(0, 10), connect(10, 10)]);
    await waitApplied(revision, 2);

    const builds = vi.spyOn(Snapshot, 'build');
    const others = Array.from({ length: PROXIES }, (_, i) => i).filter((i) => !clients.has(i));
    await Promise.all(others.map((i) => connect(i, 10)));
    await waitApplied(revision, PROXIES);
    // 298 more node clusters, two outputs that already exist: nothing built.
    expect(builds).not.toHaveBeenCalled();

    const { proxies } = (await call('GET', '/v1/proxies')).json as { proxies: { node: { id: string; cluster: string }; inSync: boolean }[] };
    expect(proxies).toHaveLength(PROXIES);
    expect(proxies.every((proxy) => proxy.inSync)).toBe(true);
    expect(new Set(proxies.map((proxy) => proxy.node.cluster)).size).toBe(PROXIES);
    expect(proxies.find((proxy) => proxy.node.id === 'sidecar-42')?.node.cluster).toBe('mesh-42');

    // The edge listener now selects 20 node clusters: those ten move to the group that has it.
    const moved = await change('PUT', '/v1/listeners/edge', edgeSelecting(20));
    await Promise.all([...clients.keys()].map((i) => syncs(i, 20)));
    await waitApplied(moved, PROXIES);
    // One snapshot per distinct output (Envoys with and without the edge listener, gRPC clients), not per node cluster.
    expect(builds.mock.calls.length).toBeLessThanOrEqual(3);
  });
});
