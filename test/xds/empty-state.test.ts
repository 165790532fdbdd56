// The empty-state guard against sluice's real gRPC server, reconciler and empty-state watch, with
// scripted SotW and delta clients: a client that declares holding configuration on connecting is
// sent no listener or cluster while the state has no service (an empty answer would delete all of
// them), a fresh client is answered at once, and the declared one gets everything as soon as a
// service is defined. Tests wait on what the guard reports, never on time.

import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FleetStatus } from '../../src/fleet/status.js';
import type { DesiredState } from '../../src/model/types.js';
import { EmptyStateWatch } from '../../src/sync/empty-state.js';
import { Reconciler } from '../../src/sync/reconciler.js';
import { RevisionLedger } from '../../src/sync/revision-ledger.js';
import { SnapshotCache } from '../../src/xds/cache.js';
import { XdsServer } from '../../src/xds/server/ads-server.js';
import type { NodeInfo } from '../../src/xds/server/messages.js';
import { CLUSTER_TYPE, LISTENER_TYPE, type ResourceTypeUrl } from '../../src/xds/type-urls.js';
import { FakeDeltaEnvoy, FakeEnvoy, NODE } from '../support/fake-envoy.js';
import { service, state } from '../support/xds-harness.js';

const FRESH = { ...NODE, id: 'fresh-envoy' };

/** The desired state as the store offers it to the reconciler. */
class MemoryState {
  private readonly listeners = new Set<(state: DesiredState) => void>();
  constructor(private value: DesiredState) {}
  current(): DesiredState {
    return this.value;
  }
  subscribe(listener: (state: DesiredState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(value: DesiredState): void {
    this.value = value;
    for (const listener of this.listeners) listener(value);
  }
}

/** The real watch, with a way to wait for what the streams report to it. */
class ObservedWatch extends EmptyStateWatch {
  private readonly changed = new Set<() => void>();
  override withholding(streamId: number, node: NodeInfo, types: ResourceTypeUrl[]): void {
    super.withholding(streamId, node, types);
    for (const notify of [...this.changed]) notify();
  }
  async until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    if (check()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.changed.delete(notify);
        reject(new Error(`${what} not seen within ${timeoutMs} ms`));
      }, timeoutMs);
      const notify = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        this.changed.delete(notify);
        resolve();
      };
      this.changed.add(notify);
    });
  }
}

let desired: MemoryState;
let watch: ObservedWatch;
let reconciler: Reconciler;
let server: XdsServer;
let address: string;
const clients: { close(): void }[] = [];

beforeEach(async () => {
  desired = new MemoryState(state(1));
  const cache = new SnapshotCache();
  const logger = pino({ level: 'silent' });
  reconciler = new Reconciler({ state: desired, cache, ledger: new RevisionLedger(), logger });
  watch = new ObservedWatch({ isEmpty: (snapshot) => reconciler.builtFromEmptyState(snapshot), logger });
  server = new XdsServer({ cache, callbacks: new FleetStatus(), logger, emptyState: watch });
  reconciler.start();
  address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  reconciler.stop();
  await server.close();
});

function sotw(): FakeEnvoy {
  const client = new FakeEnvoy(address);
  clients.push(client);
  return client;
}

function delta(): FakeDeltaEnvoy {
  const client = new FakeDeltaEnvoy(address);
  clients.push(client);
  return client;
}

const withheld = (nodeId: string) => (): boolean => watch.warningFor(nodeId)?.includes('clusters, listeners') ?? false;

describe('SotW: an empty state does not replace a connecting client’s configuration', () => {
  it('withholds listeners and clusters from a client declaring versions, answers a fresh one, then sends everything once a service exists', async () => {
    const declared = sotw();
    declared.send({ type_url: CLUSTER_TYPE, version_info: 'held-before', resource_names: [], node: NODE });
    declared.send({ type_url: LISTENER_TYPE, version_info: 'held-before', resource_names: [] });
    const fresh = sotw();
    fresh.subscribe(CLUSTER_TYPE, [], FRESH);
    const freshClusters = await fresh.next();
    expect(freshClusters.resources).toEqual([]);
    fresh.ack(freshClusters);
    fresh.subscribe(LISTENER_TYPE);
    expect((await fresh.next()).type_url).toBe(LISTENER_TYPE);

    await watch.until(withheld(NODE.id), 'clusters and listeners withheld from the declared client');
    expect(await declared.noResponseWithin(100)).toEqual([]);
    expect(watch.readinessProblem()).toMatch(/empty state .* while proxies with configuration are connected \(fake-envoy\)/);
    expect(watch.readinessProblem()).toContain('--allow-empty');
    expect(watch.warningFor(FRESH.id)).toBeUndefined();

    desired.set(state(2, service('predict', { blue: 100, green: 0 })));
    const clusters = await declared.next();
    expect(clusters.type_url).toBe(CLUSTER_TYPE);
    expect(clusters.resources).toHaveLength(2);
    declared.ack(clusters);
    const listeners = await declared.next();
    expect(listeners.type_url).toBe(LISTENER_TYPE);
    expect(listeners.resources).toHaveLength(1);
    await watch.until(() => watch.readinessProblem() === undefined, 'readiness restored');
    expect(watch.warningFor(NODE.id)).toBeUndefined();
  });

  it('does not count a client already holding the empty state’s own version as withheld', async () => {
    const fresh = sotw();
    fresh.subscribe(CLUSTER_TYPE, [], FRESH);
    const emptyClusters = await fresh.next();
    const again = sotw();
    again.send({ type_url: CLUSTER_TYPE, version_info: emptyClusters.version_info, resource_names: [], node: NODE });
    again.send({ type_url: LISTENER_TYPE, version_info: 'held-before', resource_names: [] });
    await watch.until(() => watch.warningFor(NODE.id) !== undefined, 'listeners withheld');
    expect(watch.warningFor(NODE.id)).toMatch(/its listeners are withheld/);
  });

  it('once it was sent a state with a service, deleting the last service reaches the client', async () => {
    desired.set(state(2, service('predict', { blue: 100, green: 0 })));
    const declared = sotw();
    declared.send({ type_url: CLUSTER_TYPE, version_info: 'held-before', resource_names: [], node: NODE });
    const clusters = await declared.next();
    expect(clusters.resources).toHaveLength(2);
    declared.ack(clusters);
    desired.set(state(3));
    expect((await declared.next()).resources).toEqual([]);
    expect(watch.readinessProblem()).toBeUndefined();
  });
});

describe('delta: an empty state does not replace a connecting client’s configuration', () => {
  it('withholds listeners and clusters from a client declaring initial_resource_versions, answers a fresh one, then sends everything', async () => {
    const declared = delta();
    declared.send({ node: NODE, type_url: CLUSTER_TYPE, initial_resource_versions: { predict_blue: 'held', predict_green: 'held' } });
    declared.send({ type_url: LISTENER_TYPE, initial_resource_versions: { default: 'held' } });
    const fresh = delta();
    fresh.send({ node: FRESH, type_url: CLUSTER_TYPE });
    const freshClusters = await fresh.next();
    expect(freshClusters.resources).toEqual([]);

    await watch.until(withheld(NODE.id), 'clusters and listeners withheld from the declared client');
    expect(await declared.noResponseWithin(100)).toEqual([]);
    expect(watch.readinessProblem()).toContain('fake-envoy');

    desired.set(state(2, service('predict', { blue: 100, green: 0 })));
    const clusters = await declared.next();
    expect(clusters.type_url).toBe(CLUSTER_TYPE);
    expect(clusters.resources.map((r) => r.name).sort()).toEqual(['predict_blue', 'predict_green']);
    declared.ack(clusters);
    const listeners = await declared.next();
    expect(listeners.type_url).toBe(LISTENER_TYPE);
    expect(listeners.resources.map((r) => r.name)).toEqual(['default']);
    await watch.until(() => watch.readinessProblem() === undefined, 'readiness restored');
  });
});
