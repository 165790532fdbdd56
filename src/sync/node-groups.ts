// Which snapshot each stream reads. Nodes that must receive the same resources share a group:
// the transport (ADS, per-type SotW, per-type delta) decides how routes and endpoints are
// fetched, the Envoy version whether key-based version affinity is available (≥ 1.36), and the
// node's cluster which listeners it gets (listener node selectors). gRPC clients have their own.

import { listenerSelects } from '../model/node-selector.js';
import type { DesiredState } from '../model/types.js';
import { ADS, XDS_CLUSTER_NAME, type ConfigSource } from '../translate/config-source.js';
import type { TranslatedResources } from '../translate/resources.js';
import { translateForGrpcClients } from '../translate/translate.js';
import { translateOnce } from './translation-memo.js';
import { DEFAULT_GROUP } from '../xds/server/ads-server.js';
import type { StreamTransport } from '../xds/server/callbacks.js';
import type { NodeInfo } from '../xds/server/messages.js';

/** Proxyless gRPC clients: API listeners named after services, never seen by Envoy. */
export const GRPC_CLIENT_GROUP = 'grpc-clients';
/** Envoys using the per-type discovery services, which fetch routes and endpoints on their own streams. */
export const PER_TYPE_SOTW_GROUP = 'envoy-per-type';
export const PER_TYPE_DELTA_GROUP = 'envoy-per-type-delta';
/** Suffix of the groups for Envoys older than 1.36 (no `use_hash_policy`: cohort-cookie fallback). */
export const PRE_HASH_SPLIT_SUFFIX = '-pre-1.36';
/** Separates the flavour from the node cluster in a group name: `default#edge`. */
const CLUSTER_SEPARATOR = '#';

const CONFIG_SOURCES: Record<string, ConfigSource> = {
  [DEFAULT_GROUP]: ADS,
  [PER_TYPE_SOTW_GROUP]: { kind: 'per-type', apiType: 'GRPC', clusterName: XDS_CLUSTER_NAME },
  [PER_TYPE_DELTA_GROUP]: { kind: 'per-type', apiType: 'DELTA_GRPC', clusterName: XDS_CLUSTER_NAME },
};

/** Whether an Envoy version (e.g. "1.40.0") has `weighted_clusters.use_hash_policy`; unknown counts as yes. */
export function supportsHashSplit(envoyVersion: string): boolean {
  const match = /^(\d+)\.(\d+)/.exec(envoyVersion);
  if (!match) return true;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  return major > 1 || (major === 1 && minor >= 36);
}

/**
 * gRPC's xDS clients name themselves "gRPC Node Pure JS", "gRPC Go", …; Envoy says "envoy". An
 * Envoy's group is its flavour (transport and version) and its node cluster.
 */
export function nodeGroup(node: NodeInfo, transport: StreamTransport): string {
  if (/^grpc\b/i.test(node.userAgentName)) return GRPC_CLIENT_GROUP;
  const base = transport.aggregated ? DEFAULT_GROUP : transport.kind === 'delta' ? PER_TYPE_DELTA_GROUP : PER_TYPE_SOTW_GROUP;
  const flavour = supportsHashSplit(node.envoyVersion) ? base : `${base}${PRE_HASH_SPLIT_SUFFIX}`;
  return `${flavour}${CLUSTER_SEPARATOR}${node.cluster}`;
}

interface ParsedGroup {
  translate(state: DesiredState): TranslatedResources;
  /** Equal keys translate to equal resources for the same state. */
  key(state: DesiredState): string;
}

/**
 * How to translate for a group, or undefined for a name no node can have. A group without a node
 * cluster (e.g. `default`) receives every listener.
 */
export function parseGroup(group: string): ParsedGroup | undefined {
  if (group === GRPC_CLIENT_GROUP) return { translate: translateForGrpcClients, key: () => GRPC_CLIENT_GROUP };
  const separator = group.indexOf(CLUSTER_SEPARATOR);
  const flavour = separator === -1 ? group : group.slice(0, separator);
  const nodeCluster = separator === -1 ? undefined : group.slice(separator + 1);
  const legacy = flavour.endsWith(PRE_HASH_SPLIT_SUFFIX);
  const configSource = CONFIG_SOURCES[legacy ? flavour.slice(0, -PRE_HASH_SPLIT_SUFFIX.length) : flavour];
  if (!configSource) return undefined;
  // The state itself when the node's cluster selects every listener (the usual case), so that its
  // translation is the one the pre-commit check already made (translation-memo.ts).
  const selected = (state: DesiredState): DesiredState => {
    if (nodeCluster === undefined) return state;
    const listeners = Object.entries(state.listeners).filter(([, l]) => listenerSelects(l, nodeCluster));
    return listeners.length === Object.keys(state.listeners).length ? state : { ...state, listeners: Object.fromEntries(listeners) };
  };
  return {
    translate: (state) => translateOnce(selected(state), { configSource, capabilities: { hashSplit: !legacy } }),
    key: (state) => `${flavour}\n${Object.keys(selected(state).listeners).sort().join('\n')}`,
  };
}
