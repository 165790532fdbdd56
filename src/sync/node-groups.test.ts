import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { DesiredState, Listener, Service } from '../model/types.js';
import { SnapshotCache } from '../xds/cache.js';
import type { NodeInfo } from '../xds/server/messages.js';
import { LISTENER_TYPE, CLUSTER_TYPE } from '../xds/type-urls.js';
import { GRPC_CLIENT_GROUP, PRE_HASH_SPLIT_SUFFIX, nodeGroup, parseGroup } from './node-groups.js';
import { Reconciler } from './reconciler.js';
import { RevisionLedger } from './revision-ledger.js';

function envoy(cluster: string, version = '1.40.0'): NodeInfo {
  return { id: `${cluster}-1`, cluster, userAgentName: 'envoy', clientVersion: version, envoyVersion: version };
}

function service(name: string, listener: string): Service {
  return {
    name,
    listener,
    match: { prefix: `/${name}` },
    hosts: ['*'],
    versions: [{ name: 'blue', endpoints: [{ address: '127.0.0.1', port: 5001 }] }],
    weights: { blue: 100 },
    stable: 'blue',
    pinHeader: 'x-sluice-version',
    timeout: '30s',
  };
}

function state(revision: number, internal: Listener): DesiredState {
  return {
    revision,
    listeners: { default: { name: 'default', address: '0.0.0.0', port: 8080 }, internal },
    services: { predict: service('predict', 'default'), embed: service('embed', 'internal') },
  };
}

const ADS = { kind: 'sotw' as const, aggregated: true };

describe('node groups', () => {
  it('name a group by flavour and node cluster', () => {
    expect(nodeGroup(envoy('edge'), ADS)).toBe('default#edge');
    expect(nodeGroup(envoy('edge', '1.35.3'), ADS)).toBe(`default${PRE_HASH_SPLIT_SUFFIX}#edge`);
    expect(nodeGroup(envoy('edge'), { kind: 'delta', aggregated: false })).toBe('envoy-per-type-delta#edge');
    expect(nodeGroup({ ...envoy('x'), userAgentName: 'gRPC Go' }, ADS)).toBe(GRPC_CLIENT_GROUP);
    expect(parseGroup('nonsense#edge')).toBeUndefined();
  });

  it('give a node only the listeners that select its cluster, with their services’ clusters', () => {
    const desired = state(1, { name: 'internal', address: '127.0.0.1', port: 8081, nodes: { clusters: ['mesh'] } });
    const edge = parseGroup('default#edge')!.translate(desired);
    const mesh = parseGroup('default#mesh')!.translate(desired);
    expect(edge.listeners.map((l) => l.name)).toEqual(['default']);
    expect(edge.clusters.map((c) => c.name)).toEqual(['predict_blue']);
    expect(mesh.listeners.map((l) => l.name)).toEqual(['default', 'internal']);
    expect(mesh.clusters.map((c) => c.name)).toEqual(['embed_blue', 'predict_blue']);
    // Groups that select the same listeners translate once.
    expect(parseGroup('default#edge')!.key(desired)).toBe(parseGroup('default#other')!.key(desired));
    expect(parseGroup('default#edge')!.key(desired)).not.toBe(parseGroup('default#mesh')!.key(desired));
  });

  it('are built when a stream first asks, follow selector changes, and are dropped when unused', () => {
    vi.useFakeTimers();
    let current = state(1, { name: 'internal', address: '127.0.0.1', port: 8081, nodes: { clusters: ['mesh'] } });
    const subscribers = new Set<(s: DesiredState) => void>();
    const commit = (next: DesiredState): void => {
      current = next;
      for (const subscriber of subscribers) subscriber(next);
      vi.advanceTimersByTime(10);
    };
    const source = { current: () => current, subscribe: (fn: (s: DesiredState) => void) => (subscribers.add(fn), () => subscribers.delete(fn)) };
    const cache = new SnapshotCache();
    const reconciler = new Reconciler({ state: source, cache, ledger: new RevisionLedger(), logger: pino({ level: 'silent' }), holdOffMs: 0 });
    reconciler.start();
    const seen: string[][] = [];
    const unwatch = cache.watch('default#edge', (snapshot) => seen.push([...snapshot.type(LISTENER_TYPE).resources.keys()]));
    expect(seen).toEqual([['default']]);
    expect([...cache.get('default#edge')!.type(CLUSTER_TYPE).resources.keys()]).toEqual(['predict_blue']);

    commit(state(2, { name: 'internal', address: '127.0.0.1', port: 8081, nodes: { clusters: ['mesh', 'edge'] } }));
    expect(seen.at(-1)).toEqual(['default', 'internal']);

    unwatch();
    commit(state(3, { name: 'internal', address: '127.0.0.1', port: 8081 }));
    expect(cache.get('default#edge')).toBeUndefined();
    reconciler.stop();
    vi.useRealTimers();
  });
});
