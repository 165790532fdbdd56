// Requests and errors per cluster as the fleet's Envoys report them over LRS, kept for a bounded
// window so analyses can ask "how many requests and errors did this cluster see since t, and from
// which proxies?", and as totals since this process started (never forgotten: what the traffic
// counters expose). Written only by the LRS stream; read by rollout analysis, metrics and the
// delete guard.

import type { LoadReport, LoadReportSink } from '../xds/server/lrs.js';

export interface LoadTotals {
  requests: number;
  errors: number;
}

interface Sample {
  at: number;
  nodeId: string;
  successful: number;
  errors: number;
}

const DEFAULT_RETENTION_MS = 60 * 60 * 1000;

export class LoadStats implements LoadReportSink {
  private readonly samples = new Map<string, Sample[]>();
  private readonly reportedClusters = new Set<string>();
  /** Requests and errors per cluster since start: one entry per cluster ever reported. */
  private readonly sinceStart = new Map<string, LoadTotals>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly retentionMs = DEFAULT_RETENTION_MS,
  ) {}

  report(reports: LoadReport[]): void {
    const at = this.now();
    for (const report of reports) {
      this.reportedClusters.add(report.cluster);
      if (report.successful === 0 && report.errors === 0) continue;
      const total = this.sinceStart.get(report.cluster) ?? { requests: 0, errors: 0 };
      total.requests += report.successful + report.errors;
      total.errors += report.errors;
      this.sinceStart.set(report.cluster, total);
      let list = this.samples.get(report.cluster);
      if (!list) {
        list = [];
        this.samples.set(report.cluster, list);
      }
      list.push({ at, nodeId: report.nodeId, successful: report.successful, errors: report.errors });
      while (list.length > 0 && list[0]!.at < at - this.retentionMs) list.shift();
    }
  }

  /** Whether any Envoy has reported on `cluster` yet (from then on its traffic is counted). */
  isReported(cluster: string): boolean {
    return this.reportedClusters.has(cluster);
  }

  /** Completed requests and errors reported for `cluster` at or after `since` (epoch ms). */
  totals(cluster: string, since: number): LoadTotals {
    let requests = 0;
    let errors = 0;
    for (const sample of this.samples.get(cluster) ?? []) {
      if (sample.at < since) continue;
      requests += sample.successful + sample.errors;
      errors += sample.errors;
    }
    return { requests, errors };
  }

  /** The proxies (node ids) that reported completed requests or errors for `cluster` at or after `since`. */
  reportingNodes(cluster: string, since: number): Set<string> {
    const nodes = new Set<string>();
    for (const sample of this.samples.get(cluster) ?? []) if (sample.at >= since) nodes.add(sample.nodeId);
    return nodes;
  }

  /**
   * Completed requests and errors reported for `cluster` since this process started, over every
   * proxy reporting to it: they only grow (the retention window does not apply).
   */
  totalsSinceStart(cluster: string): LoadTotals {
    const total = this.sinceStart.get(cluster);
    return total ? { ...total } : { requests: 0, errors: 0 };
  }
}
