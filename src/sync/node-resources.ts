// A dry run of what one node would receive now: its group chosen by `nodeGroup` and the current
// desired state translated for that group by `parseGroup` — the same choice and translation the
// reconciler makes — with per-type versions hashed as a snapshot would. Connected or not; reads
// the state and the fleet, never builds, caches or sends anything.

import type { ProxyStatus } from '../fleet/status.js';
import type { DesiredState } from '../model/types.js';
import type { StreamTransport } from '../xds/server/callbacks.js';
import { Snapshot } from '../xds/snapshot.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../xds/type-urls.js';
import type { DiscoveryKind, NodeQuery } from '../api/fleet.js';
import { nodeGroup, parseGroup } from './node-groups.js';
import { snapshotInput } from './reconciler.js';

const TRANSPORTS: Record<DiscoveryKind, StreamTransport> = {
  ads: { kind: 'sotw', aggregated: true },
  'ads-delta': { kind: 'delta', aggregated: true },
  'per-type': { kind: 'sotw', aggregated: false },
  'per-type-delta': { kind: 'delta', aggregated: false },
};

/** What is assumed of a node sluice has never seen and the query does not describe. */
const UNKNOWN_NODE = { cluster: '', kind: 'ads', userAgent: 'envoy', envoyVersion: '' } as const;


export interface NodeResourcesSources {
  state: { current(): DesiredState };
  fleet: { list(): readonly ProxyStatus[] };
}

function kindOf(transport: StreamTransport): DiscoveryKind {
  const aggregated = transport.aggregated ? 'ads' : 'per-type';
  return transport.kind === 'delta' ? `${aggregated}-delta` : aggregated;
}

export class NodeResources {
  constructor(private readonly sources: NodeResourcesSources) {}

  /** The node as the query describes it, filled in from the connected node of that id (if any). */
  private describeNode(query: NodeQuery) {
    const proxy = this.sources.fleet.list().find((p) => p.node.id === query.id);
    const stream = proxy?.streams[0];
    const known = proxy && {
      cluster: proxy.node.cluster,
      userAgent: proxy.userAgent,
      envoyVersion: proxy.envoyVersion,
      ...(stream ? { kind: kindOf(stream) } : {}),
    };
    const { cluster, kind, userAgent, envoyVersion } = { ...UNKNOWN_NODE, ...known, ...definedOnly(query) };
    return { id: query.id, cluster, kind, envoyVersion, userAgent, connected: proxy !== undefined };
  }

  resources(query: NodeQuery) {
    const node = this.describeNode(query);
    const isEnvoy = node.userAgent === 'envoy';
    const state = this.sources.state.current();
    const group = nodeGroup(
      {
        id: node.id,
        cluster: node.cluster,
        userAgentName: node.userAgent,
        clientVersion: node.envoyVersion,
        envoyVersion: isEnvoy ? node.envoyVersion : '',
      },
      TRANSPORTS[node.kind],
      state.listeners,
    );
    const translation = parseGroup(group);
    if (translation === undefined) throw new Error(`nodeGroup chose "${group}", which parseGroup does not know`);
    const translated = translation.translate(state);
    const versions = Snapshot.build(snapshotInput(translated)).snapshot.versions();
    return {
      revision: state.revision,
      node,
      group,
      versions: {
        listeners: versions[LISTENER_TYPE],
        routes: versions[ROUTE_TYPE],
        clusters: versions[CLUSTER_TYPE],
        endpoints: versions[ENDPOINT_TYPE],
      },
      resources: {
        listeners: translated.listeners.map((r) => r.resource),
        routes: translated.routes.map((r) => r.resource),
        clusters: translated.clusters.map((r) => r.resource),
        endpoints: translated.endpoints.map((r) => r.resource),
      },
    };
  }
}

function definedOnly(query: NodeQuery): Partial<Omit<NodeQuery, 'id'>> {
  const { cluster, kind, envoyVersion, userAgent } = query;
  return Object.fromEntries(Object.entries({ cluster, kind, envoyVersion, userAgent }).filter(([, v]) => v !== undefined));
}
