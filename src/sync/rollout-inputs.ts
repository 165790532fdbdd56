// What the rollout controller reads from the fleet, without knowing it: whether every connected
// proxy has applied a revision and which have not, with their last NACK (RevisionStatus, the fleet
// status), and the requests and errors Envoys reported for one version of a service (LoadStats, by
// its cluster name). Reads only; the controller decides.

import type { LoadStats, LoadTotals } from '../fleet/load-stats.js';
import type { FleetStatus, NackRecord } from '../fleet/status.js';
import type { ProxyProgress } from '../rollout/controller.js';
import type { PendingProxy } from '../rollout/plan.js';
import { clusterName } from '../translate/names.js';
import type { RevisionStatus } from './revision-status.js';

export class RolloutInputs implements ProxyProgress {
  constructor(
    private readonly revisions: RevisionStatus,
    private readonly loads: LoadStats,
    /** How often Envoys report load: a report covers the traffic of the interval before it arrived. */
    private readonly reportIntervalMs: number,
    /** The proxies connected here, for their NACKs (those of other replicas are named without). */
    private readonly fleet: Pick<FleetStatus, 'list'> = { list: () => [] },
  ) {}

  revisionApplied(revision: number): boolean {
    return this.revisions.fleetRevision().applied >= revision;
  }

  pendingProxies(revision: number): PendingProxy[] {
    const nacks = new Map<string, NackRecord>();
    for (const proxy of this.fleet.list()) {
      for (const status of Object.values(proxy.types)) {
        const nack = status?.lastNack;
        const newest = nacks.get(proxy.node.id);
        if (nack !== undefined && (newest === undefined || nack.at > newest.at)) nacks.set(proxy.node.id, nack);
      }
    }
    return this.revisions
      .report(revision)
      .proxies.filter((proxy) => !proxy.applied)
      .map((proxy): PendingProxy => {
        const node = proxy.replica === undefined ? proxy.node.id : `${proxy.node.id} on replica ${proxy.replica}`;
        const nack = proxy.replica === undefined ? nacks.get(proxy.node.id) : undefined;
        return nack === undefined ? { node } : { node, nack: nack.message };
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
