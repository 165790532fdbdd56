// What `GET /v1/proxies` shows: each connected stream from the fleet status, with its per-type
// versions under readable names and the newest desired-state revision it has fully applied
// (from the revision ledger). Read-only over both.

import type { FleetStatus, ProxyStatus, TypeStatus } from '../fleet/status.js';
import { SHORT_TYPE_NAMES, isResourceTypeUrl, type ResourceTypeUrl } from '../xds/type-urls.js';
import type { RevisionLedger } from './revision-ledger.js';

export interface ProxyReport {
  node: { id: string; cluster: string };
  envoyVersion: string;
  userAgent: string;
  stream: { id: number; kind: string; connectedAt: string };
  /** Newest revision whose resources this proxy has ACKed; null while it has not caught up with any. */
  appliedRevision: number | null;
  inSync: boolean;
  resources: Record<string, TypeStatus>;
}

/** The types a proxy has subscribed to (asked for at least once). */
function subscribedTypes(proxy: ProxyStatus): ResourceTypeUrl[] {
  return Object.keys(proxy.types).filter(isResourceTypeUrl);
}

/** Newest revision whose versions this proxy has ACKed for every type it subscribed to; null when none. */
export function appliedRevisionOf(proxy: ProxyStatus, ledger: RevisionLedger): number | null {
  const subscribed = subscribedTypes(proxy);
  const acked: Partial<Record<ResourceTypeUrl, string | undefined>> = {};
  for (const typeUrl of subscribed) acked[typeUrl] = proxy.types[typeUrl]?.ackedVersion;
  return ledger.appliedRevision(acked, subscribed) ?? null;
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
        userAgent: proxy.userAgent,
        stream: { id: proxy.streamId, kind: proxy.kind, connectedAt: proxy.connectedAt },
        appliedRevision: applied,
        inSync: applied !== null && applied === latest,
        resources,
      };
    });
  }
}
