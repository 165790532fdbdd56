// Which snapshot each stream reads. Nodes that must receive the same resources share a group,
// whatever their node cluster: the transport (ADS, per-type SotW, per-type delta) decides how routes
// and endpoints are fetched, the Envoy version whether key-based version affinity is available
// (≥ 1.36), and the listeners whose node selectors choose the node's cluster what it gets. gRPC
// clients have their own. A group's name says all of that, so it translates without knowing a node.

import { listenerSelects } from '../model/node-selector.js';
import type { DesiredState, Listener } from '../model/types.js';
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
/** Separates the flavour from the listeners a group selects (`default#edge,internal`); listener names have neither. */
const SELECTION_SEPARATOR = '#';
const LISTENER_SEPARATOR = ',';

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

/** Whether a client's user agent is one of gRPC's proxyless xDS clients. */
export function isGrpcClient(userAgentName: string): boolean {
  return /^grpc\b/i.test(userAgentName);
}

/**
 * gRPC's xDS clients name themselves "gRPC Node Pure JS", "gRPC Go", …; Envoy says "envoy". An
 * Envoy's group is its flavour (transport and version) alone when every listener selects its node
 * cluster (the usual case), else its flavour and the names of the listeners that do:
 * `default#edge,internal` (`default#` when none does). `listeners`: those of the desired state the
 * group is built from.
 */
export function nodeGroup(node: NodeInfo, transport: StreamTransport, listeners: Readonly<Record<string, Listener>>): string {
  if (isGrpcClient(node.userAgentName)) return GRPC_CLIENT_GROUP;
  const base = transport.aggregated ? DEFAULT_GROUP : transport.kind === 'delta' ? PER_TYPE_DELTA_GROUP : PER_TYPE_SOTW_GROUP;
  const flavour = supportsHashSplit(node.envoyVersion) ? base : `${base}${PRE_HASH_SPLIT_SUFFIX}`;
  const names = Object.keys(listeners);
  const selected = names.filter((name) => listenerSelects(listeners[name]!, node.cluster));
  return selected.length === names.length ? flavour : `${flavour}${SELECTION_SEPARATOR}${selected.sort().join(LISTENER_SEPARATOR)}`;
}

/** Whether two states' listeners would put some node in different groups (names or node selectors differ). */
export function sameSelection(a: DesiredState, b: DesiredState): boolean {
  return a.listeners === b.listeners || selectionOf(a) === selectionOf(b);
}

function selectionOf(state: DesiredState): string {
  return JSON.stringify(
    Object.keys(state.listeners)
      .sort()
      .map((name) => [name, state.listeners[name]!.nodes?.clusters ?? null]),
  );
}

interface ParsedGroup {
  translate(state: DesiredState): TranslatedResources;
  /** Equal keys translate to equal resources for the same state. */
  key(state: DesiredState): string;
}

/**
 * How to translate for a group, or undefined for a name no node can have. A group without a
 * listener list (e.g. `default`) receives every listener.
 */
export function parseGroup(group: string): ParsedGroup | undefined {
  if (group === GRPC_CLIENT_GROUP) return { translate: translateForGrpcClients, key: () => GRPC_CLIENT_GROUP };
  const separator = group.indexOf(SELECTION_SEPARATOR);
  const flavour = separator === -1 ? group : group.slice(0, separator);
  const only = separator === -1 ? undefined : group.slice(separator + 1).split(LISTENER_SEPARATOR).filter((name) => name !== '');
  const legacy = flavour.endsWith(PRE_HASH_SPLIT_SUFFIX);
  const configSource = CONFIG_SOURCES[legacy ? flavour.slice(0, -PRE_HASH_SPLIT_SUFFIX.length) : flavour];
  if (!configSource) return undefined;
  const present = (state: DesiredState): string[] => (only ?? Object.keys(state.listeners)).filter((name) => Object.hasOwn(state.listeners, name)).sort();
  return {
    translate: (state) => translateOnce(state, { configSource, capabilities: { hashSplit: !legacy } }, only),
    key: (state) => `${flavour}\n${present(state).join('\n')}`,
  };
}
