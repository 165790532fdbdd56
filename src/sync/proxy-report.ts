// What `GET /v1/proxies` shows: each connected node from the fleet status (its streams merged), with its per-type
// versions under readable names, the newest desired-state revision it has fully applied and, per
// service, the newest it holds that service as of (from the revision ledger), what it rejects now
// (Envoy's message and the services and listeners that changed in the rejected version), and warnings
// about how the proxy is configured: a node id several clients claim, a node cluster no listener
// selects, an Envoy too old for hash affinity. Read-only over the fleet, the ledger and the desired state.

import type { HeldUnit, ProxyReport, ProxyWarning, Rejection, StreamStatus, TypeStatus } from '../api/fleet.js';
import type { FleetStatus, NodeAcks, ProxyStatus } from '../fleet/status.js';
import { PUSH_ORDER, SHORT_TYPE_NAMES, isResourceTypeUrl, type ResourceTypeUrl } from '../xds/type-urls.js';
import { listenerSelects } from '../model/node-selector.js';
import type { DesiredState } from '../model/types.js';
import type { StreamTransport } from '../xds/server/callbacks.js';
import type { NodeInfo } from '../xds/server/messages.js';
import { isGrpcClient, nodeGroup, supportsHashSplit } from './node-groups.js';
import type { HeldVersions, RevisionLedger } from './revision-ledger.js';
import { footprintUnit, serviceKey } from './service-footprints.js';

/** What the proxy reports read of the holds. */
export interface HoldsView {
  /** The group a proxy's streams read now (its node's group, or the variant a hold moved it to). */
  groupOf(proxy: ProxyStatus): string;
  heldFor(nodeId: string): HeldUnit[];
  /** Grows whenever any node's holds or group change. */
  readonly generation: number;
}

/** The group a node and transport make under the desired state the snapshots come from (the reconciler's `groupOf`). */
export type NodeGrouping = (node: NodeInfo, transport: StreamTransport) => string;

/** Where a proxy stands: the whole state, each service, and what it rejects. */
export interface ProxyStanding {
  /** Newest revision whose resources this proxy has all ACKed; null while none. */
  appliedRevision: number | null;
  /** Per service of the newest revision: the newest revision it holds that service as of; null while none. */
  services: Record<string, number | null>;
  rejected: Rejection[];
  /** Changes it rejected that are held back for it. */
  held: HeldUnit[];
}

/** What the warnings read of the desired state. */
export interface DesiredStateView {
  current(): DesiredState;
}

/** The types a proxy has subscribed to (asked for at least once). */
function subscribedTypes(proxy: NodeAcks): ResourceTypeUrl[] {
  return Object.keys(proxy.types).filter(isResourceTypeUrl);
}

/**
 * The types a proxy will ask for but has not yet. Every client sluice serves (Envoy, gRPC's
 * proxyless clients) routes through all four, asking for them one by one (Envoy: clusters, their
 * endpoints, listeners, their routes); until it has asked for a type that the revision has
 * resources of, the types it already holds must not make it look up to date.
 */
function impliedTypes(subscribed: ResourceTypeUrl[]): ResourceTypeUrl[] {
  return PUSH_ORDER.filter((typeUrl) => !subscribed.includes(typeUrl));
}

function ackedVersions(proxy: NodeAcks): Omit<HeldVersions, 'group'> {
  const subscribed = subscribedTypes(proxy);
  const acked: Partial<Record<ResourceTypeUrl, string | undefined>> = {};
  for (const typeUrl of subscribed) acked[typeUrl] = proxy.types[typeUrl]?.ackedVersion;
  return { acked, subscribed, implied: impliedTypes(subscribed) };
}

/** What the proxy holds, with the group its streams read (the per-service questions need it). */
function heldVersions(proxy: ProxyStatus, holds: HoldsView | undefined): HeldVersions {
  // Without the holds (and the grouping they know), the group of a node every listener selects.
  const group = proxy.streams.length === 0 ? '' : holds ? holds.groupOf(proxy) : nodeGroupOf(proxy, (node, transport) => nodeGroup(node, transport, {}));
  return { group, ...ackedVersions(proxy) };
}

/** `applied`, but at most the revision before the first of `held` (changes held back for the proxy). */
function beforeHeld(applied: number | null, held: readonly HeldUnit[]): number | null {
  if (applied === null || held.length === 0) return applied;
  return Math.min(applied, ...held.map((unit) => unit.since - 1));
}

/** What the ledger says of one service, capped by its own held change. */
function serviceApplied(ledger: RevisionLedger, service: string, held: HeldVersions, heldUnits: readonly HeldUnit[]): number | null {
  const own = heldUnits.filter((unit) => unit.unit === 'service' && unit.name === service);
  return beforeHeld(ledger.unitAppliedRevision(serviceKey(service), held) ?? null, own);
}

/**
 * Newest revision whose versions this proxy has ACKed for every type it subscribed to (or will);
 * null when none. While changes are held back for it, at most the revision before the first.
 */
export function appliedRevisionOf(proxy: NodeAcks, ledger: RevisionLedger, holds?: Pick<HoldsView, 'heldFor'>): number | null {
  // Asked for every proxy on every fleet change (revision waiters, convergence): no group, no copies.
  const held = ackedVersions(proxy);
  return beforeHeld(ledger.appliedRevision(held.acked, held.subscribed, held.implied) ?? null, holds?.heldFor(proxy.node.id) ?? []);
}

/**
 * Newest revision this proxy holds `service` as of; null when none the ledger knows. While a change
 * of it is held back for the proxy, at most the revision before that change.
 */
export function serviceAppliedRevisionOf(proxy: ProxyStatus, ledger: RevisionLedger, service: string, holds?: HoldsView): number | null {
  return serviceApplied(ledger, service, heldVersions(proxy, holds), holds?.heldFor(proxy.node.id) ?? []);
}

/** A type's last answer was a NACK (one that came with or after its last ACK). */
export function currentNack(status: TypeStatus | undefined): TypeStatus['lastNack'] {
  const nack = status?.lastNack;
  if (!nack) return undefined;
  return status?.ackedAt !== undefined && status.ackedAt > nack.at ? undefined : nack;
}

function rejectionsIn(proxy: ProxyStatus, ledger: RevisionLedger, groupOf: () => string): Rejection[] {
  const rejections: Rejection[] = [];
  for (const typeUrl of PUSH_ORDER) {
    const status = proxy.types[typeUrl];
    const nack = currentNack(status);
    if (!nack) continue;
    const changed = ledger.changedUnits(groupOf(), typeUrl, status?.ackedVersion, nack.version).keys.map(footprintUnit);
    rejections.push({
      type: SHORT_TYPE_NAMES[typeUrl],
      version: nack.version,
      message: nack.message,
      at: nack.at,
      services: changed.filter((unit) => unit.kind === 'service').map((unit) => unit.name),
      listeners: changed.filter((unit) => unit.kind === 'listener').map((unit) => unit.name),
    });
  }
  return rejections;
}

/** What the proxy rejects now, per type, with the services and listeners that changed in it. */
export function rejectionsOf(proxy: ProxyStatus, ledger: RevisionLedger, holds?: HoldsView): Rejection[] {
  // Asked for every proxy when a revision's waiters wake: its group only when it rejects something.
  return rejectionsIn(proxy, ledger, () => heldVersions(proxy, holds).group);
}

/** The whole standing of a proxy: applied revision, per service, rejections, held changes (its group found once). */
export function standingOf(proxy: ProxyStatus, ledger: RevisionLedger, holds?: HoldsView): ProxyStanding {
  const held = heldVersions(proxy, holds);
  const heldUnits = holds?.heldFor(proxy.node.id) ?? [];
  const services: Record<string, number | null> = {};
  for (const unit of ledger.units(held.group).map(footprintUnit)) {
    if (unit.kind === 'service') services[unit.name] = serviceApplied(ledger, unit.name, held, heldUnits);
  }
  return {
    appliedRevision: beforeHeld(ledger.appliedRevision(held.acked, held.subscribed, held.implied) ?? null, heldUnits),
    services,
    rejected: rejectionsIn(proxy, ledger, () => held.group),
    held: heldUnits,
  };
}

function streamIds(streams: StreamStatus[]): string {
  return streams.map((s) => s.id).join(', ');
}

/**
 * Whether the streams under one node id come from more than one client. One Envoy opens exactly
 * one ADS stream, or, on the per-type services, one stream per resource type (each asks for its
 * own type), never both: so two ADS streams, ADS and per-type streams together, or more per-type
 * streams than types asked for mean several clients (or a stale stream of a reconnected one).
 */
function duplicateNodeId(proxy: ProxyStatus): ProxyWarning | undefined {
  const ads = proxy.streams.filter((s) => s.aggregated);
  const perType = proxy.streams.filter((s) => !s.aggregated);
  const id = JSON.stringify(proxy.node.id);
  const fix = 'several clients share this node id and are shown merged as one; give each Envoy its own node.id';
  if (ads.length > 1) {
    return { code: 'duplicate-node-id', message: `${ads.length} ADS streams (${streamIds(ads)}) carry node id ${id}, where one Envoy opens one: ${fix}` };
  }
  if (ads.length === 1 && perType.length > 0) {
    return {
      code: 'duplicate-node-id',
      message: `node id ${id} is on an ADS stream (${streamIds(ads)}) and on ${perType.length} per-type stream(s) (${streamIds(perType)}), where one Envoy uses one or the other: ${fix}`,
    };
  }
  const types = subscribedTypes(proxy).length;
  if (perType.length > types && types > 0) {
    return {
      code: 'duplicate-node-id',
      message: `${perType.length} per-type streams (${streamIds(perType)}) carry node id ${id} for ${types} resource type(s), where one Envoy opens one stream per type: ${fix}`,
    };
  }
  return undefined;
}

/** An Envoy whose node cluster no listener selects, while listeners select by node cluster. */
function noListenerSelected(proxy: ProxyStatus, state: DesiredState): ProxyWarning | undefined {
  const listeners = Object.values(state.listeners);
  if (!listeners.some((l) => l.nodes !== undefined)) return undefined;
  if (listeners.some((l) => listenerSelects(l, proxy.node.cluster))) return undefined;
  const selected = [...new Set(listeners.flatMap((l) => l.nodes?.clusters ?? []))].sort();
  const cluster = proxy.node.cluster === '' ? 'no node cluster' : `node cluster ${JSON.stringify(proxy.node.cluster)}`;
  return {
    code: 'no-listener-selected',
    message: `no listener selects ${cluster}, so this Envoy receives no listener; listeners select the node clusters ${selected.map((c) => JSON.stringify(c)).join(', ')}`,
  };
}

function cohortCookieAffinity(proxy: ProxyStatus): ProxyWarning | undefined {
  if (!proxy.envoyVersion || supportsHashSplit(proxy.envoyVersion)) return undefined;
  return {
    code: 'cohort-cookie-affinity',
    message: `Envoy ${proxy.envoyVersion} is older than 1.36: version affinity uses cohort cookies instead of hash affinity (use_hash_policy); upgrade it to 1.36 or later`,
  };
}

/** The warnings of one connected proxy; `state` undefined skips those about listeners. */
export function proxyWarnings(proxy: ProxyStatus, state: DesiredState | undefined): ProxyWarning[] {
  return [
    duplicateNodeId(proxy),
    state === undefined || isGrpcClient(proxy.userAgent) ? undefined : noListenerSelected(proxy, state),
    cohortCookieAffinity(proxy),
  ].filter((warning): warning is ProxyWarning => warning !== undefined);
}

/** The group a proxy's node and transport make (its streams read it unless a hold moved them); it has a stream. */
export function nodeGroupOf(proxy: ProxyStatus, groupOf: NodeGrouping): string {
  const stream = proxy.streams[0]!;
  return groupOf(
    { id: proxy.node.id, cluster: proxy.node.cluster, userAgentName: proxy.userAgent, clientVersion: proxy.clientVersion, envoyVersion: proxy.envoyVersion },
    { kind: stream.kind, aggregated: stream.aggregated },
  );
}

export class ProxyReporter {
  constructor(
    private readonly fleet: FleetStatus,
    private readonly ledger: RevisionLedger,
    /** The desired state, for the listener warnings; without it they are not given. */
    private readonly state?: DesiredStateView,
    private readonly holds?: HoldsView,
  ) {}

  list(): ProxyReport[] {
    const latest = this.ledger.latest();
    const state = this.state?.current();
    return this.fleet.list().map((proxy) => {
      const resources: Record<string, TypeStatus> = {};
      for (const typeUrl of subscribedTypes(proxy)) resources[SHORT_TYPE_NAMES[typeUrl]] = proxy.types[typeUrl] ?? {};
      const standing = standingOf(proxy, this.ledger, this.holds);
      const applied = standing.appliedRevision;
      const services = Object.fromEntries(
        Object.entries(standing.services).map(([name, revision]) => [name, { appliedRevision: revision, inSync: revision !== null && revision === latest }]),
      );
      return {
        node: proxy.node,
        envoyVersion: proxy.envoyVersion,
        clientVersion: proxy.clientVersion,
        ...(proxy.envoyVersion ? { versionAffinity: supportsHashSplit(proxy.envoyVersion) ? ('hash' as const) : ('cohort-cookie' as const) } : {}),
        userAgent: proxy.userAgent,
        streams: [...proxy.streams],
        appliedRevision: applied,
        inSync: applied !== null && applied === latest,
        services,
        rejected: standing.rejected,
        held: standing.held,
        resources,
        warnings: proxyWarnings(proxy, state),
      };
    });
  }
}
