// What the rollout controller reads from the fleet, without knowing it: whether every connected
// proxy that held a service before holds it as of a revision and which do not, with the rejection that holds each back
// (RevisionStatus), and the requests and errors Envoys reported for one version of a service
// (LoadStats, by its cluster name). Reads only; the controller decides.

import type { LoadStats, LoadTotals } from '../fleet/load-stats.js';
import type { ProxyProgress } from '../rollout/controller.js';
import type { PendingProxy } from '../rollout/plan.js';
import { clusterName } from '../translate/names.js';
import type { Rejection } from '../api/fleet.js';
import type { RevisionStatus } from './revision-status.js';

/** The rejection that names the service, else the newest. */
function blockingRejection(rejected: readonly Rejection[], service: string): Rejection | undefined {
  const naming = rejected.filter((rejection) => rejection.services.includes(service));
  const candidates = naming.length > 0 ? naming : rejected;
  return candidates.reduce<Rejection | undefined>((newest, rejection) => (newest === undefined || rejection.at > newest.at ? rejection : newest), undefined);
}

export class RolloutInputs implements ProxyProgress {
  constructor(
    private readonly revisions: RevisionStatus,
    private readonly loads: LoadStats,
    /** How often Envoys report load: a report covers the traffic of the interval before it arrived. */
    private readonly reportIntervalMs: number,
  ) {}

  revisionApplied(revision: number, service: string): boolean {
    return this.revisions.fleetRevision(service).applied >= revision;
  }

  pendingProxies(revision: number, service: string): PendingProxy[] {
    return this.revisions
      .report(revision, service)
      .proxies.filter((proxy) => !proxy.applied && proxy.neverHeld !== true)
      .map((proxy): PendingProxy => {
        const node = proxy.replica === undefined ? proxy.node.id : `${proxy.node.id} on replica ${proxy.replica}`;
        const rejection = blockingRejection(proxy.rejected ?? [], service);
        if (rejection) return { node, nack: `${rejection.type}: ${rejection.message}` };
        const held = proxy.held?.find((unit) => unit.unit === 'service' && unit.name === service);
        return held === undefined ? { node } : { node, nack: `${held.type}: ${held.message} (the change is held back for this proxy)` };
      });
  }

  onChange(listener: () => void): () => void {
    return this.revisions.onChange(listener);
  }

  /**
   * A metric source: the version's load served since `since` (epoch ms) — the reports that arrived
   * a whole report interval after it, so that traffic from before (an earlier step) never counts.
   */
  readonly fleetTotals = (service: string, version: string, since: number): LoadTotals =>
    this.loads.totals(clusterName(service, version), since + this.reportIntervalMs);
}
