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
  const selective = state(1, { name: 'internal', address: '127.0.0.1', port: 8081, nodes: { clusters: ['mesh'] } });

  it('name a group by flavour and, unless every listener selects the node cluster, the listeners that do', () => {
    expect(nodeGroup(envoy('mesh'), ADS, selective.listeners)).toBe('default');
    expect(nodeGroup(envoy('edge'), ADS, selective.listeners)).toBe('default#default');
    expect(nodeGroup(envoy('edge', '1.35.3'), ADS, selective.listeners)).toBe(`default${PRE_HASH_SPLIT_SUFFIX}#default`);
    expect(nodeGroup(envoy('edge'), { kind: 'delta', aggregated: false }, selective.listeners)).toBe('envoy-per-type-delta#default');
    expect(nodeGroup({ ...envoy('x'), userAgentName: 'gRPC Go' }, ADS, selective.listeners)).toBe(GRPC_CLIENT_GROUP);
    const edgeOnly = { internal: selective.listeners['internal']!, zeta: { name: 'zeta', address: '0.0.0.0', port: 9000, nodes: { clusters: ['mesh'] } } };
    expect(nodeGroup(envoy('edge'), ADS, edgeOnly)).toBe('default#');
    expect(nodeGroup(envoy('mesh'), ADS, { ...edgeOnly, default: selective.listeners['default']!, other: { ...edgeOnly.zeta, name: 'other', nodes: { clusters: ['x'] } } })).toBe(
      'default#default,internal,zeta',
    );
    // A thousand node clusters that select the same listeners share one group.
    expect(new Set(Array.from({ length: 1000 }, (_, i) => nodeGroup(envoy(`svc-${i}`), ADS, selective.listeners)))).toEqual(new Set(['default#default']));
    expect(parseGroup('nonsense#edge')).toBeUndefined();
  });

  it('give a group only the listeners it names, with their services’ clusters', () => {
    const edge = parseGroup('default#default')!.translate(selective);
    const mesh = parseGroup('default')!.translate(selective);
    const none = parseGroup('default#')!.translate(selective);
    expect(edge.listeners.map((l) => l.name)).toEqual(['default']);
    expect(edge.clusters.map((c) => c.name)).toEqual(['predict_blue']);
    expect(mesh.listeners.map((l) => l.name)).toEqual(['default', 'internal']);
    expect(mesh.clusters.map((c) => c.name)).toEqual(['embed_blue', 'predict_blue']);
    expect(none.listeners).toEqual([]);
    // Groups that select the same listeners translate once.
    expect(parseGroup('default')!.key(selective)).toBe(parseGroup('default#default,internal')!.key(selective));
    expect(parseGroup('default#default')!.key(selective)).not.toBe(parseGroup('default')!.key(selective));
  });

  it('are built when a stream first asks, move their streams when selectors change, and are dropped when unused', () => {
    vi.useFakeTimers();
    let current = selective;
    const subscribers = new Set<(s: DesiredState) => void>();
    const commit = (next: DesiredState): void => {
      current = next;
      for (const subscriber of subscribers) subscriber(next);
      vi.advanceTimersByTime(10);
    };
    const source = { current: () => current, subscribe: (fn: (s: DesiredState) => void) => (subscribers.add(fn), () => subscribers.delete(fn)) };
    const cache = new SnapshotCache();
    // One stream of node cluster "edge", re-asking for its group as XdsServer.regroup makes streams do.
    const seen: { group: string; listeners: string[] }[] = [];
    let watching: { group: string; unwatch: () => void } | undefined;
    const watch = (): void => {
      const group = reconciler.groupOf(envoy('edge'), ADS);
      if (group === watching?.group) return;
      watching?.unwatch();
      watching = { group, unwatch: () => undefined };
      watching.unwatch = cache.watch(group, (snapshot) => seen.push({ group, listeners: [...snapshot.type(LISTENER_TYPE).resources.keys()] }));
    };
    const reconciler: Reconciler = new Reconciler({ state: source, cache, ledger: new RevisionLedger(), logger: pino({ level: 'silent' }), holdOffMs: 0, regroup: watch });
    reconciler.start();
    watch();
    expect(seen).toEqual([{ group: 'default#default', listeners: ['default'] }]);
    expect([...cache.get('default#default')!.type(CLUSTER_TYPE).resources.keys()]).toEqual(['predict_blue']);

    commit(state(2, { name: 'internal', address: '127.0.0.1', port: 8081, nodes: { clusters: ['mesh', 'edge'] } }));
    expect(seen.slice(1)).toEqual([{ group: 'default', listeners: ['default', 'internal'] }]);

    // A listener for other nodes: the stream moves before the snapshots are set, so it never reads
    // the new state under its old group (which now has a listener not meant for it).
    const withExtra = state(3, { name: 'internal', address: '127.0.0.1', port: 8081, nodes: { clusters: ['mesh', 'edge'] } });
    commit({ ...withExtra, listeners: { ...withExtra.listeners, extra: { name: 'extra', address: '127.0.0.1', port: 8082, nodes: { clusters: ['mesh'] } } } });
    expect(seen.slice(2)).toEqual([{ group: 'default#default,internal', listeners: ['default', 'internal'] }]);
    expect(cache.get('default#default')).toBeUndefined();

    // Without that listener the stream joins `default`, whose snapshot of the old state has it: the
    // stream is shown only the new state's.
    commit(state(4, { name: 'internal', address: '127.0.0.1', port: 8081, nodes: { clusters: ['mesh', 'edge'] } }));
    expect(seen.slice(3)).toEqual([{ group: 'default', listeners: ['default', 'internal'] }]);
    watching!.unwatch();
    reconciler.stop();
    vi.useRealTimers();
  });
});
