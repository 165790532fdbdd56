// What the rollout controller reads from the fleet, without knowing it: whether every connected
// proxy has applied a revision (RevisionStatus), and the requests and errors Envoys reported for
// one version of a service (LoadStats, by its cluster name). Reads only; the controller decides.

import type { LoadStats, LoadTotals } from '../fleet/load-stats.js';
import type { ProxyProgress } from '../rollout/controller.js';
import { clusterName } from '../translate/names.js';
import type { RevisionStatus } from './revision-status.js';

export class RolloutInputs implements ProxyProgress {
  constructor(
    private readonly revisions: RevisionStatus,
    private readonly loads: LoadStats,
    /** How often Envoys report load: a report covers the traffic of the interval before it arrived. */
    private readonly reportIntervalMs: number,
  ) {}

  revisionApplied(revision: number): boolean {
    return this.revisions.fleetRevision().applied >= revision;
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
