// What `GET /v1/proxies` shows: each connected node from the fleet status (its streams merged), with its per-type
// versions under readable names and the newest desired-state revision it has fully applied
// (from the revision ledger). Read-only over both.

import type { FleetStatus, ProxyStatus, StreamStatus, TypeStatus } from '../fleet/status.js';
import { PUSH_ORDER, SHORT_TYPE_NAMES, isResourceTypeUrl, type ResourceTypeUrl } from '../xds/type-urls.js';
import { supportsHashSplit } from './node-groups.js';
import type { RevisionLedger } from './revision-ledger.js';

export interface ProxyReport {
  node: { id: string; cluster: string };
  /** Set only when the client is Envoy. */
  envoyVersion: string;
  userAgent: string;
  clientVersion: string;
  /**
   * For Envoys: how key-based version affinity reaches it — `hash` (use_hash_policy) or, for
   * Envoys older than 1.36, `cohort-cookie` (a stand-in, never a silent random split).
   */
  versionAffinity?: 'hash' | 'cohort-cookie';
  streams: StreamStatus[];
  /** Newest revision whose resources this proxy has ACKed; null while it has not caught up with any. */
  appliedRevision: number | null;
  inSync: boolean;
  resources: Record<string, TypeStatus>;
}

/** The types a proxy has subscribed to (asked for at least once). */
function subscribedTypes(proxy: ProxyStatus): ResourceTypeUrl[] {
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

/** Newest revision whose versions this proxy has ACKed for every type it subscribed to (or will); null when none. */
export function appliedRevisionOf(proxy: ProxyStatus, ledger: RevisionLedger): number | null {
  const subscribed = subscribedTypes(proxy);
  const acked: Partial<Record<ResourceTypeUrl, string | undefined>> = {};
  for (const typeUrl of subscribed) acked[typeUrl] = proxy.types[typeUrl]?.ackedVersion;
  return ledger.appliedRevision(acked, subscribed, impliedTypes(subscribed)) ?? null;
}

export class ProxyReporter {
  constructor(
    private readonly fleet: FleetStatus,
    private readonly ledger: RevisionLedger,
  ) {}

  list(): ProxyReport[] {
    const latest = this.ledger.latest();
    return this.fleet.list().map((proxy) => {
      const resources: Record<string, TypeStatus> = {};
      for (const typeUrl of subscribedTypes(proxy)) resources[SHORT_TYPE_NAMES[typeUrl]] = proxy.types[typeUrl] ?? {};
      const applied = appliedRevisionOf(proxy, this.ledger);
      return {
        node: proxy.node,
        envoyVersion: proxy.envoyVersion,
        clientVersion: proxy.clientVersion,
        ...(proxy.envoyVersion ? { versionAffinity: supportsHashSplit(proxy.envoyVersion) ? ('hash' as const) : ('cohort-cookie' as const) } : {}),
        userAgent: proxy.userAgent,
        streams: proxy.streams,
        appliedRevision: applied,
        inSync: applied !== null && applied === latest,
        resources,
      };
    });
  }
}
